// netpol-client's HTTP server: Boost.Beast on the client's one io_context.
// Small requests from one proxy: keep-alive, a bounded body, a deadline for
// every request, a cap on connections.
#pragma once

#include "client/client_service.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace netpol::client {

struct request_view {
  std::string_view method;
  std::string_view path; // without the query
  std::string_view body;
};

using request_handler = std::function<endpoint_answer(const request_view&)>;

struct server_settings {
  uint64_t max_body_bytes = 64ull << 20;
  std::chrono::nanoseconds request_timeout = std::chrono::seconds{30};
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds{60};
  size_t max_connections = 256;
};

class http_server {
public:
  http_server(boost::asio::io_context& io, const server_settings& settings,
              request_handler handler);
  ~http_server();

  /// Binds and listens. An empty host is every address: IPv6 and IPv4 on
  /// one socket, or IPv4 alone where the pod has no IPv6. On failure,
  /// returns false and says why in `error`.
  bool listen(const std::string& host, uint16_t port, std::string& error);

  /// "[::]:9001", "0.0.0.0:9001", "127.0.0.1:40123": where it listens.
  std::string local_address() const;

  /// Stops accepting and closes every connection.
  void stop();

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace netpol::client
