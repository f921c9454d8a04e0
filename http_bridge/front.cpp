#include "http_bridge/front.hpp"

#include "http_bridge/front_impl.hpp"
#include "http_bridge/session.hpp"
#include "http_bridge/wire.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <algorithm>
#include <vector>

namespace netpol {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto shutdown_grace = 2s;
constexpr auto cap_log_interval = 10s;

} // namespace

caf::timespan body_deadline(const front_settings& settings, uint64_t length,
                            bool length_known, caf::timespan floor) {
  if (!length_known || settings.max_body_bytes == 0)
    return settings.body_timeout;
  auto share = static_cast<double>(std::min(length, settings.max_body_bytes))
               / static_cast<double>(settings.max_body_bytes);
  auto scaled = caf::timespan{
    static_cast<int64_t>(settings.body_timeout.count() * share)};
  return std::max(scaled, floor);
}

uint64_t raise_fd_limit(uint64_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return 0;
  if (limit.rlim_cur < wanted && limit.rlim_cur != RLIM_INFINITY) {
    auto target = limit.rlim_max == RLIM_INFINITY
                    ? wanted
                    : std::min<uint64_t>(wanted, limit.rlim_max);
    rlimit raised = limit;
    raised.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
      limit = raised;
  }
  return limit.rlim_cur;
}

// -- front::impl --------------------------------------------------------------

void front::impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || stopping)
      return;
    if (ec) {
      // Out of descriptors (or a transient error): try again shortly
      // rather than spin.
      auto now = std::chrono::steady_clock::now();
      if (now - last_cap_log >= cap_log_interval) {
        last_cap_log = now;
        spdlog::error("Accepting a connection failed: {}; retrying",
                      ec.message());
      }
      accept_retry.expires_after(100ms);
      accept_retry.async_wait([this](beast::error_code ec) {
        if (!ec && !stopping)
          accept();
      });
      return;
    }
    ++accepted;
    if (sessions.size() >= settings.max_connections) {
      refuse(socket);
    } else {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay{true}, ignored);
      auto s = std::make_shared<session>(*this, std::move(socket));
      sessions.emplace(s.get(), s);
      ++open;
      s->start();
    }
    accept();
  });
}

void front::impl::refuse(tcp::socket& socket) {
  ++refused_at_cap;
  auto now = std::chrono::steady_clock::now();
  if (now - last_cap_log >= cap_log_interval) {
    last_cap_log = now;
    spdlog::warn("Connection cap reached ({} open, --max-connections): "
                 "refusing new connections with 503; {} refused so far",
                 sessions.size(), refused_at_cap.load());
  }
  static const std::string answer = [] {
    auto body = error_json("too_many_connections",
                           "the proxy has as many connections open as "
                           "--max-connections allows");
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
           "application/json\r\nContent-Length: "
           + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n"
           + body;
  }();
  beast::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(net::buffer(answer), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

void front::impl::grant_body_slot() {
  while (!body_slot_busy && !body_slot_waiters.empty()) {
    auto next = body_slot_waiters.front().lock();
    body_slot_waiters.pop_front();
    if (!next || next->state() == session::phase::closing
        || !next->waiting_for_slot_)
      continue;
    body_slot_busy = true;
    next->on_body_slot();
  }
}

void front::impl::begin_shutdown() {
  if (stopping)
    return;
  stopping = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  std::vector<std::shared_ptr<session>> live;
  for (auto& [raw, weak] : sessions)
    if (auto s = weak.lock())
      live.push_back(std::move(s));
  for (auto& s : live)
    s->shut_down();
  // Answers in flight get a moment; then everything closes.
  grace.expires_after(shutdown_grace);
  grace.async_wait([this](beast::error_code ec) {
    if (ec)
      return;
    std::vector<std::shared_ptr<session>> rest;
    for (auto& [raw, weak] : sessions)
      if (auto s = weak.lock())
        rest.push_back(std::move(s));
    for (auto& s : rest)
      s->close();
    ioc.stop();
  });
  maybe_finish_shutdown();
}

void front::impl::maybe_finish_shutdown() {
  if (stopping && sessions.empty())
    grace.cancel(), ioc.stop();
}

// -- front --------------------------------------------------------------------

front::front(front_settings settings,
             std::shared_ptr<const request_router> router)
  : impl_(std::make_shared<impl>(std::move(settings), std::move(router))) {
  // Each connection is a descriptor; leave room for pod calls and files.
  auto wanted = impl_->settings.max_connections + 512;
  auto limit = raise_fd_limit(wanted);
  if (limit < wanted) {
    auto cap = limit > 1024 ? limit - 512 : limit / 2;
    spdlog::error("The open-file limit is {} (RLIMIT_NOFILE), too small for "
                  "--max-connections {}: serving at most {} connections; "
                  "raise the limit (ulimit -n) for more",
                  limit, impl_->settings.max_connections, cap);
    impl_->settings.max_connections = cap;
  }
}

front::~front() {
  stop();
}

uint16_t front::bind(const std::string& host, uint16_t port,
                     std::string& error) {
  beast::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) {
    error = "'" + host + "' is not an IP address";
    return 0;
  }
  tcp::endpoint where{address, port};
  auto& acceptor = impl_->acceptor;
  acceptor.open(where.protocol(), ec);
  if (!ec)
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(where, ec);
  if (!ec)
    acceptor.listen(1024, ec);
  if (ec) {
    error = ec.message();
    beast::error_code ignored;
    acceptor.close(ignored);
    return 0;
  }
  return acceptor.local_endpoint().port();
}

bool front::run() {
  if (!impl_->acceptor.is_open())
    return false;
  impl_->accept();
  impl_->ioc.run();
  // Threads that asked the coordinator (a scoped_actor each) hold CAF's
  // logger in a thread-local until they end, and ~actor_system waits for
  // the logger: end them before run() returns.
  impl_->kube_burner_pool.join();
  impl_->operator_pool.join();
  return true;
}

void front::stop() {
  // Weak: a stop posted once run() has returned stays queued in the impl's
  // own io_context, and a strong pointer there would keep the impl alive
  // for ever.
  std::weak_ptr<impl> weak = impl_;
  net::post(impl_->ioc, [weak] {
    if (auto self = weak.lock())
      self->begin_shutdown();
  });
}

front_counters front::counters() const {
  auto& i = *impl_;
  front_counters result;
  result.open_connections = i.open;
  result.accepted = i.accepted;
  result.refused_at_cap = i.refused_at_cap;
  result.closed_header_deadline = i.closed_header;
  result.closed_body_deadline = i.closed_body;
  result.closed_idle = i.closed_idle;
  result.closed_write_deadline = i.closed_write;
  result.refused_busy = i.refused_busy;
  result.requests = i.requests;
  result.max_connections = i.settings.max_connections;
  return result;
}

} // namespace netpol
