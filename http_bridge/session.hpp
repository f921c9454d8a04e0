// One HTTP connection of the front (http_bridge/front.cpp): the front
// accepts, creates a session per socket and tracks it in front::impl; the
// session reads, hands over, writes, and removes itself when it closes.
#pragma once

#include "http_bridge/front.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netpol {

/// One connection: reads a request under its deadlines, hands it to a lane,
/// writes the reply, and waits for the next one (keep-alive).
class session : public std::enable_shared_from_this<session> {
  using tcp = boost::asio::ip::tcp;
  using error_code = boost::beast::error_code;
  using string_body = boost::beast::http::string_body;
  using empty_body = boost::beast::http::empty_body;

public:
  enum class phase { idle, header, body, handling, writing, closing };

  session(front::impl& front, tcp::socket socket);

  phase state() const {
    return phase_;
  }

  void start();

  /// Front shutdown: idle connections go now, busy ones after their reply.
  void shut_down();

  void close();

  /// Called when the body slot is ours.
  void on_body_slot();

private:
  enum class deadline { none, idle, header, body, write, slot, linger };

  // -- deadlines --------------------------------------------------------------

  void arm(std::chrono::steady_clock::duration after, deadline which);
  void disarm();

  // -- reading ----------------------------------------------------------------

  void next_request();
  void on_readable(error_code ec);
  void read_header();
  void on_header(error_code ec);

  /// --header-timeout passed: closes, or answers 408 if part of a request
  /// arrived.
  void header_timed_out();

  /// The head could not be read: closes on a closed connection, else
  /// answers 413, 431 or 400.
  void header_failed(error_code ec);

  /// The head is complete: routes it (400, 404, 405) and checks its length
  /// before the body is read.
  void start_request();

  /// A route that takes a body: 411 or 413 by its length, else waits for the
  /// body slot.
  void admit_body();

  void slot_timeout();
  void read_body();
  void read_whole_body();
  void on_body(error_code ec);

  // -- handling ---------------------------------------------------------------

  void dispatch();
  void release_body_slot();

  // -- writing ----------------------------------------------------------------

  /// Answers a request the front refuses, then closes: the rest of the
  /// request (a body, say) was not read.
  void fail(int status, std::string_view code, const std::string& message);

  void write_error(http_reply reply);
  void write_reply(http_reply reply);
  void write_pieces();
  void on_written(error_code ec, bool timer_armed);

  /// Closes after an answer without destroying it: unread input would make
  /// close() send a reset that can overtake the answer in flight.
  void linger_close();

  void drain();

  front::impl& front_;
  tcp::socket socket_;
  boost::asio::steady_timer timer_;
  uint64_t generation_ = 0;
  deadline armed_ = deadline::none;
  deadline timed_out_ = deadline::none;
  phase phase_ = phase::header;
  bool first_ = true;
  bool keep_alive_ = true;
  bool holds_slot_ = false;
  bool waiting_for_slot_ = false;
  caf::timespan body_time_{0};
  boost::beast::flat_buffer buffer_; // sized in the constructor
  std::optional<boost::beast::http::request_parser<string_body>> parser_;
  http_request request_;
  route_info route_;
  std::optional<boost::beast::http::response<string_body>> response_;
  std::optional<boost::beast::http::response<empty_body>> stream_head_;
  std::optional<boost::beast::http::response_serializer<empty_body>>
    serializer_;
  std::shared_ptr<body_stream> stream_;
  std::vector<std::string_view> pieces_;
  std::vector<boost::asio::const_buffer> buffers_;
  char scratch_[4096];

  friend struct front::impl;
};

} // namespace netpol
