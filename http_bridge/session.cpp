#include "http_bridge/session.hpp"

#include "http_bridge/front_impl.hpp"
#include "http_bridge/wire.hpp"
#include "messages/settings.hpp"

#include <algorithm>

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

session::session(front::impl& front, tcp::socket socket)
  : front_(front),
    socket_(std::move(socket)),
    timer_(front.ioc),
    buffer_(max_head_bytes + small_body_limit) {
}

void session::start() {
  // A fresh connection's header deadline runs from the accept: one that
  // connects and sends nothing is gone after --header-timeout.
  read_header();
}

void session::shut_down() {
  keep_alive_ = false;
  if (phase_ == phase::idle || phase_ == phase::header
      || phase_ == phase::body)
    close();
}

void session::close() {
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

void session::on_body_slot() {
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

// -- deadlines ---------------------------------------------------------------

void session::arm(std::chrono::steady_clock::duration after, deadline which) {
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

void session::disarm() {
  ++generation_;
  armed_ = deadline::none;
  timer_.cancel();
}

// -- reading -----------------------------------------------------------------

void session::next_request() {
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

void session::on_readable(beast::error_code ec) {
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

void session::read_header() {
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

void session::on_header(beast::error_code ec) {
  auto timed_out = timed_out_;
  disarm();
  if (phase_ == phase::closing)
    return;
  if (timed_out == deadline::header)
    return header_timed_out();
  if (ec)
    return header_failed(ec);
  start_request();
}

void session::header_timed_out() {
  ++front_.closed_header;
  // Nothing of a request arrived: close. Part of one: say why.
  if (buffer_.size() == 0 && !parser_->got_some())
    return close();
  fail(408, "request_timeout",
       "request line and headers not complete within "
         + seconds_text(front_.settings.header_timeout)
         + " (--header-timeout)");
}

void session::header_failed(beast::error_code ec) {
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
  fail(400, "bad_request", "malformed request: " + ec.message());
}

void session::start_request() {
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
  if (route_.takes_body)
    return admit_body();
  auto length = parser_->content_length();
  if (length && *length > small_body_limit)
    return fail(413, "too_large",
                request_.path + " takes no body; this one has "
                  + std::to_string(*length) + " bytes");
  read_body();
}

void session::admit_body() {
  auto length = parser_->content_length();
  if (!length && !parser_->chunked())
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
}

void session::slot_timeout() {
  if (!waiting_for_slot_)
    return;
  waiting_for_slot_ = false;
  ++front_.refused_busy;
  fail(503, "busy",
       "another request body is being read; try again (one at a time "
       "bounds the proxy's memory)");
}

void session::read_body() {
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

void session::read_whole_body() {
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

void session::on_body(beast::error_code ec) {
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

void session::dispatch() {
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

void session::release_body_slot() {
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

void session::fail(int status, std::string_view code,
                   const std::string& message) {
  if (route_.takes_body)
    front_.router->refused(request_.path, status, message);
  write_error(error_reply(status, code, message));
}

void session::write_error(http_reply reply) {
  keep_alive_ = false;
  release_body_slot();
  write_reply(std::move(reply));
}

void session::write_reply(http_reply reply) {
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

void session::write_pieces() {
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

void session::on_written(beast::error_code ec, bool timer_armed) {
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

void session::linger_close() {
  phase_ = phase::closing;
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  arm(linger_time, deadline::linger);
  drain();
}

void session::drain() {
  socket_.async_read_some(net::buffer(scratch_),
                          [self = shared_from_this()](beast::error_code ec,
                                                      size_t) {
                            if (ec || self->timed_out_ != deadline::none)
                              return self->close();
                            self->drain();
                          });
}

} // namespace netpol
