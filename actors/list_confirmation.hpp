// Whether an unconfirmed pod holds the list it was sent: its /check was
// written whole and no valid answer came, so it may or may not have taken
// it, and the real client must never get /check twice (docs/protocol.md
// §7). netpol-client can be asked: GET /status says whether it took a list
// and that list's SHA-256, and it takes the same list twice without harm
// (docs/client.md, "Endpoints"). The real client answers 404 there.
#pragma once

#include "messages/types.hpp"

#include <string_view>

namespace netpol {

/// What a pod's answer `out` to GET /status says of the list `sent`: held,
/// not_taken, other_list, cannot_ask (a 404, or not netpol-client's JSON),
/// or none (no answer to read: ask again). Sets `out.detail` to why.
list_confirmation read_client_status(pod_outcome& out, std::string_view sent);

} // namespace netpol
