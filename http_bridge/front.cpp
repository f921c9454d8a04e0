#include "http_bridge/front.hpp"

#include "http_bridge/wire.hpp"
#include "messages/settings.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <unordered_map>

namespace netpol {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr size_t max_head_bytes = 64 * 1024; // request line and headers
constexpr uint64_t small_body_limit = 64 * 1024; // routes that ignore bodies
constexpr size_t stream_batch_bytes = 1 << 20;
constexpr auto linger_time = 1s;
constexpr auto shutdown_grace = 2s;
constexpr auto cap_log_interval = 10s;

http_reply error_reply(int status, std::string_view code,
                       std::string_view message) {
  http_reply reply;
  reply.status = status;
  reply.body = error_json(code, message);
  return reply;
}

std::string seconds_text(caf::timespan x) {
  return describe_duration(x);
}

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

class session;

struct front::impl {
  front_settings settings;
  std::shared_ptr<const request_router> router;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_retry{ioc};
  net::steady_timer grace{ioc};
  net::thread_pool kube_burner_pool;
  net::thread_pool operator_pool;
  std::atomic<size_t> queued[2] = {};

  // Counters (read by /metrics from other threads).
  std::atomic<uint64_t> open{0}, accepted{0}, refused_at_cap{0},
    closed_header{0}, closed_body{0}, closed_idle{0}, closed_write{0},
    refused_busy{0}, requests{0};

  // I/O thread only.
  std::unordered_map<session*, std::weak_ptr<session>> sessions;
  bool stopping = false;
  bool body_slot_busy = false;
  std::deque<std::weak_ptr<session>> body_slot_waiters;
  std::chrono::steady_clock::time_point last_cap_log{};

  impl(front_settings s, std::shared_ptr<const request_router> r)
    : settings(std::move(s)),
      router(std::move(r)),
      kube_burner_pool(std::max(1u, settings.kube_burner_threads)),
      operator_pool(std::max(1u, settings.operator_threads)) {
  }

  ~impl() {
    // Handlers still running hold sessions and post to ioc: finish them
    // while everything they touch is alive.
    kube_burner_pool.join();
    operator_pool.join();
  }

  void accept();
  void refuse(tcp::socket& socket);
  void begin_shutdown();
  void maybe_finish_shutdown();
  void grant_body_slot();
};

/// One connection: reads a request under its deadlines, hands it to a lane,
/// writes the reply, and waits for the next one (keep-alive).
class session : public std::enable_shared_from_this<session> {
public:
  enum class phase { idle, header, body, handling, writing, closing };

  session(front::impl& front, tcp::socket socket)
    : front_(front), socket_(std::move(socket)), timer_(front.ioc) {
  }

  phase state() const {
    return phase_;
  }

  void start() {
    // A fresh connection's header deadline runs from the accept: one that
    // connects and sends nothing is gone after --header-timeout.
    read_header();
  }

  /// Front shutdown: idle connections go now, busy ones after their reply.
  void shut_down() {
    keep_alive_ = false;
    if (phase_ == phase::idle || phase_ == phase::header
        || phase_ == phase::body)
      close();
  }

  void close() {
    if (!socket_.is_open())
      return;
    phase_ = phase::closing;
    disarm();
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    release_body_slot();
    if (front_.sessions.erase(this) > 0)
      --front_.open;
    front_.maybe_finish_shutdown();
  }

  /// Called when the body slot is ours.
  void on_body_slot() {
    if (phase_ == phase::closing) {
      front_.body_slot_busy = false;
      front_.grant_body_slot();
      return;
    }
    holds_slot_ = true;
    waiting_for_slot_ = false;
    disarm();
    read_body();
  }

private:
  enum class deadline { none, idle, header, body, write, slot, linger };

  // -- deadlines ---------------------------------------------------------------

  void arm(std::chrono::steady_clock::duration after, deadline which) {
    timed_out_ = deadline::none;
    armed_ = which;
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this(), gen = ++generation_](
                        beast::error_code ec) {
      if (ec || gen != self->generation_)
        return;
      self->timed_out_ = self->armed_;
      if (self->armed_ == deadline::slot) {
        self->slot_timeout();
        return;
      }
      beast::error_code ignored;
      self->socket_.cancel(ignored); // the pending operation ends now
    });
  }

  void disarm() {
    ++generation_;
    armed_ = deadline::none;
    timer_.cancel();
  }

  // -- reading -----------------------------------------------------------------

  void next_request() {
    first_ = false;
    if (buffer_.size() > 0) { // pipelined
      read_header();
      return;
    }
    phase_ = phase::idle;
    arm(front_.settings.idle_timeout, deadline::idle);
    socket_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this()](beast::error_code ec) {
                         self->on_readable(ec);
                       });
  }

  void on_readable(beast::error_code ec) {
    auto timed_out = timed_out_;
    disarm();
    if (timed_out == deadline::idle) {
      ++front_.closed_idle;
      return close();
    }
    if (ec || front_.stopping)
      return close();
    read_header();
  }

  void read_header() {
    phase_ = phase::header;
    route_ = route_info{};
    parser_.emplace();
    parser_->header_limit(max_head_bytes);
    // Beast checks a Content-Length against this as the headers arrive;
    // the route's own limit is applied once the route is known.
    parser_->body_limit(std::max(front_.settings.max_body_bytes,
                                 small_body_limit));
    arm(front_.settings.header_timeout, deadline::header);
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec,
                                                        size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    auto timed_out = timed_out_;
    disarm();
    if (phase_ == phase::closing)
      return;
    if (timed_out == deadline::header) {
      ++front_.closed_header;
      // Nothing of a request arrived: close. Part of one: say why.
      if (buffer_.size() == 0 && !parser_->got_some())
        return close();
      return fail(408, "request_timeout",
                  "request line and headers not complete within "
                    + seconds_text(front_.settings.header_timeout)
                    + " (--header-timeout)");
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof
        || ec == net::error::connection_reset
        || ec == http::error::partial_message || ec == net::error::operation_aborted)
      return close();
    if (ec == http::error::body_limit) {
      // The headers are whole: the route is known, and a refused
      // /initiate is reported as one.
      auto& head = parser_->get();
      request_.method = std::string{head.method_string()};
      if (parse_target(head.target(), request_.path, request_.query))
        route_ = front_.router->lookup(request_.method, request_.path);
      return fail(413, "too_large",
                  "request body larger than "
                    + std::to_string(front_.settings.max_body_bytes)
                    + " bytes (--max-body)");
    }
    if (ec == http::error::header_limit)
      return fail(431, "headers_too_large",
                  "request line and headers larger than "
                    + std::to_string(max_head_bytes) + " bytes");
    if (ec)
      return fail(400, "bad_request", "malformed request: " + ec.message());
    auto& head = parser_->get();
    request_ = http_request{};
    request_.method = std::string{head.method_string()};
    keep_alive_ = head.keep_alive() && !front_.stopping;
    if (!parse_target(head.target(), request_.path, request_.query))
      return fail(400, "bad_request",
                  "request target is not a path: "
                    + std::string{head.target().substr(0, 200)});
    route_ = front_.router->lookup(request_.method, request_.path);
    if (!route_.found)
      return fail(404, "not_found", "no endpoint " + request_.path);
    if (!route_.allowed) {
      auto reply = error_reply(405, "method_not_allowed",
                               request_.method
                                 + " is not allowed here; use "
                                 + route_.allow);
      reply.headers.emplace_back("Allow", route_.allow);
      return write_error(std::move(reply));
    }
    auto length = parser_->content_length();
    bool chunked = parser_->chunked();
    if (route_.takes_body) {
      if (!length && !chunked)
        return fail(411, "length_required",
                    request_.method + " " + request_.path
                      + " needs a Content-Length header (or chunked "
                        "encoding)");
      if (length && *length > front_.settings.max_body_bytes)
        return fail(413, "too_large",
                    "request body larger than "
                      + std::to_string(front_.settings.max_body_bytes)
                      + " bytes (--max-body)");
      // One body at a time: bodies and their parse cost about 2 x
      // --max-body at most, whoever else is sending one.
      waiting_for_slot_ = true;
      front_.body_slot_waiters.push_back(weak_from_this());
      arm(front_.settings.body_slot_wait, deadline::slot);
      front_.grant_body_slot();
      return;
    }
    if (length && *length > small_body_limit)
      return fail(413, "too_large",
                  request_.path + " takes no body; this one has "
                    + std::to_string(*length) + " bytes");
    read_body();
  }

  void slot_timeout() {
    if (!waiting_for_slot_)
      return;
    waiting_for_slot_ = false;
    ++front_.refused_busy;
    fail(503, "busy",
         "another request body is being read; try again (one at a time "
         "bounds the proxy's memory)");
  }

  void read_body() {
    phase_ = phase::body;
    if (parser_->is_done())
      return dispatch();
    auto& head = parser_->get();
    if (beast::iequals(head[http::field::expect], "100-continue")) {
      static const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      arm(front_.settings.write_timeout, deadline::write);
      net::async_write(socket_, net::buffer(go_on),
                       [self = shared_from_this()](beast::error_code ec,
                                                   size_t) {
                         auto timed_out = self->timed_out_;
                         self->disarm();
                         if (ec || timed_out != deadline::none)
                           return self->close();
                         self->read_whole_body();
                       });
      return;
    }
    read_whole_body();
  }

  void read_whole_body() {
    auto length = parser_->content_length();
    parser_->body_limit(route_.takes_body ? front_.settings.max_body_bytes
                                          : small_body_limit);
    body_time_ = body_deadline(front_.settings, length ? *length : 0,
                               length.has_value(),
                               front_.settings.header_timeout);
    arm(body_time_, deadline::body);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec,
                                                 size_t) {
                       self->on_body(ec);
                     });
  }

  void on_body(beast::error_code ec) {
    auto timed_out = timed_out_;
    disarm();
    if (phase_ == phase::closing)
      return;
    if (timed_out == deadline::body) {
      ++front_.closed_body;
      return fail(408, "request_timeout",
                  "request body not complete within "
                    + seconds_text(body_time_) + " (--body-timeout)");
    }
    if (ec == http::error::body_limit)
      return fail(413, "too_large",
                  "request body larger than "
                    + std::to_string(route_.takes_body
                                       ? front_.settings.max_body_bytes
                                       : small_body_limit)
                    + " bytes (--max-body)");
    if (ec == http::error::end_of_stream || ec == net::error::eof
        || ec == http::error::partial_message
        || ec == net::error::connection_reset)
      return close();
    if (ec)
      return fail(400, "bad_request", "malformed request: " + ec.message());
    dispatch();
  }

  // -- handling ----------------------------------------------------------------

  void dispatch() {
    phase_ = phase::handling;
    ++front_.requests;
    request_.body = std::move(parser_->get().body());
    parser_.reset();
    auto index = static_cast<size_t>(route_.which);
    auto& queued = front_.queued[index];
    if (queued.load() >= front_.settings.max_queued_per_lane) {
      ++front_.refused_busy;
      return fail(503, "busy", "too many requests waiting; try again");
    }
    ++queued;
    auto& pool = route_.which == lane::kube_burner ? front_.kube_burner_pool
                                                   : front_.operator_pool;
    net::post(pool, [self = shared_from_this(), request = std::move(request_),
                     &queued]() mutable {
      http_reply reply;
      try {
        reply = self->front_.router->handle(request);
      } catch (const std::exception& ex) {
        reply = error_reply(500, "internal", ex.what());
      } catch (...) {
        reply = error_reply(500, "internal", "unknown exception");
      }
      request = http_request{}; // free the body on this thread
      --queued;
      auto& ioc = self->front_.ioc;
      // The last reference to the session is dropped on the I/O thread.
      net::post(ioc, [self = std::move(self), reply = std::move(reply)]() mutable {
        self->release_body_slot();
        self->write_reply(std::move(reply));
      });
    });
  }

  void release_body_slot() {
    if (waiting_for_slot_) {
      waiting_for_slot_ = false;
      // Its entry in the waiters is skipped once it is gone.
    }
    if (!holds_slot_)
      return;
    holds_slot_ = false;
    front_.body_slot_busy = false;
    front_.grant_body_slot();
  }

  // -- writing -----------------------------------------------------------------

  /// Answers a request the front refuses, then closes: the rest of the
  /// request (a body, say) was not read.
  void fail(int status, std::string_view code, const std::string& message) {
    if (route_.takes_body)
      front_.router->refused(request_.path, status, message);
    write_error(error_reply(status, code, message));
  }

  void write_error(http_reply reply) {
    keep_alive_ = false;
    release_body_slot();
    write_reply(std::move(reply));
  }

  void write_reply(http_reply reply) {
    if (phase_ == phase::closing)
      return;
    phase_ = phase::writing;
    if (front_.stopping)
      keep_alive_ = false;
    if (!reply.stream) {
      response_.emplace(static_cast<http::status>(reply.status), 11);
      response_->set(http::field::content_type, reply.content_type);
      for (auto& [name, value] : reply.headers)
        response_->set(name, value);
      response_->body() = std::move(reply.body);
      response_->keep_alive(keep_alive_);
      response_->prepare_payload();
      arm(front_.settings.write_timeout, deadline::write);
      http::async_write(socket_, *response_,
                        [self = shared_from_this()](beast::error_code ec,
                                                    size_t) {
                          self->response_.reset();
                          self->on_written(ec, true);
                        });
      return;
    }
    stream_ = std::move(reply.stream);
    stream_head_.emplace(static_cast<http::status>(reply.status), 11);
    stream_head_->set(http::field::content_type, reply.content_type);
    for (auto& [name, value] : reply.headers)
      stream_head_->set(name, value);
    stream_head_->content_length(stream_->size());
    stream_head_->keep_alive(keep_alive_);
    serializer_.emplace(*stream_head_);
    arm(front_.settings.write_timeout, deadline::write);
    http::async_write_header(socket_, *serializer_,
                             [self = shared_from_this()](beast::error_code ec,
                                                         size_t) {
                               auto timed_out = self->timed_out_;
                               self->disarm();
                               if (ec || timed_out != deadline::none)
                                 return self->on_written(ec, false);
                               self->write_pieces();
                             });
  }

  void write_pieces() {
    pieces_.clear();
    bool more = stream_->next(pieces_, stream_batch_bytes);
    buffers_.clear();
    for (auto piece : pieces_)
      if (!piece.empty())
        buffers_.emplace_back(piece.data(), piece.size());
    if (buffers_.empty() && !more)
      return on_written({}, true);
    arm(front_.settings.write_timeout, deadline::write);
    net::async_write(socket_, buffers_,
                     [self = shared_from_this(), more](beast::error_code ec,
                                                       size_t) {
                       auto timed_out = self->timed_out_;
                       self->disarm();
                       if (ec || timed_out != deadline::none || !more)
                         return self->on_written(ec, true);
                       self->write_pieces();
                     });
  }

  void on_written(beast::error_code ec, bool timer_armed) {
    auto timed_out = timer_armed ? timed_out_ : deadline::none;
    disarm();
    stream_.reset();
    serializer_.reset();
    stream_head_.reset();
    if (timed_out == deadline::write || (!timer_armed && ec == net::error::operation_aborted)) {
      ++front_.closed_write;
      return close();
    }
    if (ec)
      return close();
    if (!keep_alive_)
      return linger_close();
    next_request();
  }

  /// Closes after an answer without destroying it: unread input would make
  /// close() send a reset that can overtake the answer in flight.
  void linger_close() {
    phase_ = phase::closing;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    arm(linger_time, deadline::linger);
    drain();
  }

  void drain() {
    socket_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec,
                                                        size_t) {
                              if (ec || self->timed_out_ != deadline::none)
                                return self->close();
                              self->drain();
                            });
  }

  front::impl& front_;
  tcp::socket socket_;
  net::steady_timer timer_;
  uint64_t generation_ = 0;
  deadline armed_ = deadline::none;
  deadline timed_out_ = deadline::none;
  phase phase_ = phase::header;
  bool first_ = true;
  bool keep_alive_ = true;
  bool holds_slot_ = false;
  bool waiting_for_slot_ = false;
  caf::timespan body_time_{0};
  beast::flat_buffer buffer_{max_head_bytes + small_body_limit};
  std::optional<http::request_parser<http::string_body>> parser_;
  http_request request_;
  route_info route_;
  std::optional<http::response<http::string_body>> response_;
  std::optional<http::response<http::empty_body>> stream_head_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::shared_ptr<body_stream> stream_;
  std::vector<std::string_view> pieces_;
  std::vector<net::const_buffer> buffers_;
  char scratch_[4096];

  friend struct front::impl;
};

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

size_t front::max_connections() const {
  return impl_->settings.max_connections;
}

} // namespace netpol
