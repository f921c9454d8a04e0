#include "client/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <unordered_set>

namespace netpol::client {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

constexpr uint32_t max_head_bytes = 16 * 1024;

class session;

} // namespace

struct http_server::impl : std::enable_shared_from_this<impl> {
  impl(net::io_context& io, const server_settings& s, request_handler h)
    : io(io), settings(s), handler(std::move(h)), acceptor(io) {
  }

  net::io_context& io;
  server_settings settings;
  request_handler handler;
  tcp::acceptor acceptor;
  std::unordered_set<std::shared_ptr<session>> sessions;
  bool stopped = false;

  void accept();
};

namespace {

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, std::shared_ptr<http_server::impl> server)
    : stream_(std::move(socket)), server_(std::move(server)) {
  }

  void start(std::chrono::nanoseconds timeout) {
    parser_.emplace();
    parser_->header_limit(max_head_bytes);
    parser_->body_limit(server_->settings.max_body_bytes);
    stream_.expires_after(timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       self->on_read(ec);
                     });
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

private:
  void on_read(error_code ec) {
    if (ec == http::error::body_limit) {
      reply(413, "The body is larger than --max-body ("
                   + std::to_string(server_->settings.max_body_bytes)
                   + " bytes)\n",
            false);
      return;
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout
        || ec == net::error::operation_aborted || ec == net::error::eof
        || ec == net::error::connection_reset) {
      end();
      return;
    }
    if (ec) {
      reply(400, "Bad request: " + ec.message() + "\n", false);
      return;
    }
    auto& request = parser_->get();
    auto target = std::string_view{request.target().data(),
                                   request.target().size()};
    request_view view{
      std::string_view{request.method_string().data(),
                       request.method_string().size()},
      target.substr(0, target.find('?')), request.body()};
    auto answer = server_->handler(view);
    reply(answer.status, std::move(answer.body), request.keep_alive(),
          answer.content_type, request.method() == http::verb::head);
  }

  void reply(unsigned status, std::string body, bool keep_alive,
             const std::string& type = "text/plain; charset=utf-8",
             bool head_only = false) {
    auto response = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(status), 11);
    response->set(http::field::content_type, type);
    response->set(http::field::server, "netpol-client");
    response->keep_alive(keep_alive);
    response->body() = std::move(body);
    response->prepare_payload();
    if (head_only)
      response->body().clear(); // Content-Length stays the GET's
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response,
                       keep_alive](error_code ec, size_t) {
                        if (ec || !keep_alive || self->server_->stopped) {
                          self->end();
                          return;
                        }
                        self->start(self->server_->settings.idle_timeout);
                      });
  }

  void end() {
    close();
    server_->sessions.erase(shared_from_this());
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http_server::impl> server_;
};

} // namespace

void http_server::impl::accept() {
  acceptor.async_accept([self = shared_from_this()](error_code ec,
                                                    tcp::socket socket) {
    if (self->stopped || !self->acceptor.is_open())
      return;
    if (!ec) {
      if (self->sessions.size() >= self->settings.max_connections) {
        spdlog::warn("Refused a connection: {} open already (the cap)",
                     self->sessions.size());
        error_code ignored;
        socket.close(ignored);
      } else {
        socket.set_option(tcp::no_delay(true), ec);
        auto s = std::make_shared<session>(std::move(socket), self);
        self->sessions.insert(s);
        s->start(self->settings.request_timeout);
      }
    } else if (ec == net::error::no_descriptors) {
      spdlog::warn("Cannot accept a connection: {}", ec.message());
    }
    self->accept();
  });
}

http_server::http_server(net::io_context& io, const server_settings& settings,
                         request_handler handler)
  : impl_(std::make_shared<impl>(io, settings, std::move(handler))) {
}

http_server::~http_server() {
  stop();
}

bool http_server::listen(const std::string& host, uint16_t port,
                         std::string& error) {
  auto& acceptor = impl_->acceptor;
  error_code ec;
  tcp::endpoint endpoint;
  if (host.empty()) {
    endpoint = tcp::endpoint{tcp::v6(), port};
    acceptor.open(endpoint.protocol(), ec);
    if (!ec)
      acceptor.set_option(net::ip::v6_only(false), ec);
    if (ec) { // no IPv6 in this pod: every IPv4 address
      error_code ignored;
      acceptor.close(ignored);
      endpoint = tcp::endpoint{tcp::v4(), port};
      ec = {};
      acceptor.open(endpoint.protocol(), ec);
    }
  } else {
    auto address = net::ip::make_address(host, ec);
    if (ec) {
      error = "'" + host + "' is not an IP address";
      return false;
    }
    endpoint = tcp::endpoint{address, port};
    acceptor.open(endpoint.protocol(), ec);
  }
  if (!ec)
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(endpoint, ec);
  if (!ec)
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error = ec.message();
    error_code ignored;
    acceptor.close(ignored);
    return false;
  }
  impl_->accept();
  return true;
}

std::string http_server::local_address() const {
  error_code ec;
  auto endpoint = impl_->acceptor.local_endpoint(ec);
  if (ec)
    return "(not listening)";
  auto address = endpoint.address().to_string();
  if (endpoint.address().is_v6())
    address = "[" + address + "]";
  return address + ":" + std::to_string(endpoint.port());
}

void http_server::stop() {
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  error_code ignored;
  impl_->acceptor.close(ignored);
  auto sessions = std::move(impl_->sessions);
  for (auto& s : sessions)
    s->close();
}

} // namespace netpol::client
