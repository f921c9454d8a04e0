#pragma once

#include <caf/error.hpp>

#include <string>

namespace netpol {

/// The one place that maps errors to HTTP statuses.
int http_status_of(const caf::error& err);

/// The short code put in JSON error bodies ("no_round", ...).
std::string error_code_of(const caf::error& err);

} // namespace netpol
