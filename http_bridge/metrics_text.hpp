#pragma once

#include "messages/types.hpp"

#include <string>

namespace netpol {

/// The Prometheus text exposition format (version 0.0.4) of the proxy's
/// counters and the current round.
std::string prometheus_text(const proxy_metrics& metrics,
                            const std::string& version);

} // namespace netpol
