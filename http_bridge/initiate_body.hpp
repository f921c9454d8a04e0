#pragma once

#include "http_bridge/pod_addresses.hpp"
#include "messages/types.hpp"

#include <caf/expected.hpp>

#include <string_view>

namespace netpol {

/// Validates a whole /initiate body before anything changes: a JSON object
/// mapping pod IPs (IPv4 or IPv6, unique) to arrays of connections, each
/// `{"addresses": [strings], "ports": [1-65535], "netpol": string}`. On
/// success every pod's array is re-serialized once, ready to send. On failure
/// the error (errc::bad_input) names the offending key; a key `allowed`
/// refuses is bad input too.
caf::expected<round_plan>
parse_initiate_body(std::string_view body, size_t max_pods,
                    const pod_address_policy& allowed = {});

/// True for a textual IPv4 or IPv6 address (no port, no zone, no brackets).
bool is_ip_address(const std::string& text);

} // namespace netpol
