// The real prober: one new TCP connection per probe, `GET /`, the answer's
// status line timed on the real-time clock as it arrives. Asio, on the
// caller's io_context (one thread); no thread per probe.
#pragma once

#include "client/prober.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <unordered_map>

namespace netpol::client {

class tcp_prober final : public prober {
public:
  explicit tcp_prober(boost::asio::io_context& io);
  ~tcp_prober() override;

  void start(probe_id id, const probe_target& target,
             probe_events& events) override;
  void abandon(probe_id id) override;

  /// Probes with a socket open now.
  size_t open() const {
    return probes_.size();
  }

  struct probe; // one attempt: its socket, request and answer so far

private:
  boost::asio::io_context& io_;
  std::unordered_map<probe_id, std::shared_ptr<probe>> probes_;
};

/// What a probe reads: the HTTP status code once the status line is whole
/// (0 before), whether the header ended, and whether it cannot be HTTP.
struct answer_head {
  int status = 0;
  bool status_line_seen = false;
  bool header_complete = false;
  bool malformed = false;
};

/// Reads the start of an answer as Go's client would accept it: a status
/// line `HTTP/<major>.<minor> <3 digits>[ reason]`, then header lines up to
/// an empty line; more than `limit` bytes without one is malformed.
answer_head read_answer_head(std::string_view head, size_t limit = 16384);

} // namespace netpol::client
