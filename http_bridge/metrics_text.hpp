#pragma once

#include "http_bridge/front.hpp"
#include "messages/types.hpp"

#include <string>

namespace netpol {

/// The Prometheus text exposition format (version 0.0.4) of the proxy's
/// counters, the current round and the HTTP front.
std::string prometheus_text(const proxy_metrics& metrics,
                            const front_counters& front,
                            const std::string& version);

} // namespace netpol
