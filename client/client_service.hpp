// What netpol-client's endpoints serve, apart from HTTP: POST /check takes
// the connection list once, GET /results answers the successes so far, GET
// /status says what the client is doing (docs/client.md, "Endpoints").
#pragma once

#include "client/check_list.hpp"
#include "client/probe_scheduler.hpp"
#include "client/results_log.hpp"
#include "messages/digest.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace netpol::client {

/// An endpoint's answer.
struct endpoint_answer {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class client_service {
public:
  using steady = std::chrono::steady_clock;
  using wall = std::chrono::system_clock;

  /// A list of more than `max_tests` tests is refused; `version` is what
  /// /status names the program.
  client_service(const schedule_settings& settings, size_t max_tests,
                 prober& probes, std::string version);

  /// POST /check: takes the list (200) and starts probing; the same list
  /// again changes nothing (200); another list is refused (409); a body
  /// that does not parse is refused (400). Nothing is taken when refused.
  endpoint_answer check(std::string_view body, steady::time_point now);

  /// GET /results: the successes so far, as the real client encodes them.
  endpoint_answer results() const;

  /// GET /status: the list taken (and its SHA-256), tests pending and
  /// succeeded, probes, the interval in force.
  endpoint_answer status() const;

  /// The scheduler, once a list is taken (null before).
  probe_scheduler* scheduler() {
    return scheduler_.get();
  }

  /// One line for the log: tests succeeded and pending, probes and their
  /// outcomes, the interval. Empty before a list is taken.
  std::string progress_line() const;

  /// Whether every test of the list taken has succeeded.
  bool all_succeeded() const;

private:
  /// Probes sent and how they ended, for the log.
  std::string probes_line() const;
  void record_success(size_t target, wall::time_point at, uint64_t probes);

  schedule_settings settings_;
  size_t max_tests_;
  prober& prober_;
  std::string version_;
  std::optional<check_list> list_;
  std::string list_sha256_;
  wall::time_point list_taken_at_;
  std::unique_ptr<probe_scheduler> scheduler_;
  results_log results_;
  std::optional<wall::time_point> first_success_, last_success_;
  uint64_t checks_repeated_ = 0, checks_refused_ = 0, checks_bad_ = 0;
};

using netpol::sha256_hex; // the list taken is named by it in /status

} // namespace netpol::client
