#include "client/routes.hpp"

namespace netpol::client {

namespace {

endpoint_answer plain(unsigned status, std::string body) {
  endpoint_answer out;
  out.status = status;
  out.body = std::move(body);
  return out;
}

} // namespace

endpoint_answer route(client_service& service, const request_view& request,
                      client_service::steady::time_point now) {
  bool get = request.method == "GET" || request.method == "HEAD";
  if (request.path == "/check")
    return request.method == "POST"
             ? service.check(request.body, now)
             : plain(405, "/check takes POST with the connection list\n");
  if (request.path == "/results")
    return get ? service.results() : plain(405, "/results takes GET\n");
  if (request.path == "/status")
    return get ? service.status() : plain(405, "/status takes GET\n");
  return plain(404, "Not found: netpol-client serves POST /check, GET "
                    "/results and GET /status\n");
}

} // namespace netpol::client
