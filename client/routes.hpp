// The client's routes: a path and method to one call of client_service.
#pragma once

#include "client/client_service.hpp"
#include "client/http_server.hpp"

namespace netpol::client {

/// POST /check, GET (or HEAD) /results and /status; 405 for another
/// method on those paths, 404 elsewhere.
endpoint_answer route(client_service& service, const request_view& request,
                      client_service::steady::time_point now);

} // namespace netpol::client
