// The project's one error enum. Handlers return caf::result<T>; the bridge
// maps each code to an HTTP status in one place (http_bridge/status_map.cpp).
#pragma once

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include <cstdint>
#include <string>

namespace netpol {

enum class errc : uint8_t {
  none = 0,
  no_round,          // /stop before any /initiate
  results_not_ready, // /results before collection finished
  bad_input,         // a request body or parameter failed validation
  too_large,         // a request body over the configured limit
  unavailable,       // the coordinator did not answer in time
  initiate_refused,  // /stop after a refused /initiate and no round since
};

const char* to_string(errc x);

/// The atom naming our error category.
constexpr caf::atom_value error_category = caf::atom("netpol");

caf::error make_error(errc code);

caf::error make_error(errc code, std::string detail);

/// Reads the code back; errc::none for errors of other categories.
errc code_of(const caf::error& err);

/// The detail string given to make_error, or CAF's rendering for others.
std::string detail_of(const caf::error& err);

} // namespace netpol
