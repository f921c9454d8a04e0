// The in-memory twin of curl_pod_client, for deterministic actor tests: each
// pod answers from a script, and every call is recorded.
#pragma once

#include "actors/pod_client.hpp"

#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace netpol {

/// One scripted answer of a simulated pod.
enum class sim_answer {
  ok,              // 200 (and for /results the pod's configured body)
  refused,         // connection refused: nothing was sent
  connect_timeout, // no connection by the deadline: nothing was sent
  send_reset,      // reset while the request was being written
  reset,           // the whole request was sent, then the connection reset
  timeout,         // the whole request was sent, no answer by the deadline
  bad_answer,      // the whole request was sent, the answer is not HTTP
  http_500,        // 500 Internal Server Error
  http_400,        // 400 Bad Request
  bad_json,        // 200 with a body that is not a connTest array
  crash,           // the pod client throws: the worker making the call dies
  cancelled,       // a clean stop cut the call off before the request went out
  cancelled_sent,  // a clean stop cut the call off after the whole request
};

/// Thrown by a `crash` answer.
struct simulated_crash : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class simulated_pod_client : public pod_client {
public:
  struct call_record {
    std::string ip;
    stage kind;
    std::string payload;
  };

  /// Queues answers for the next calls of `kind` to `ip`. Once the script is
  /// used up, the pod answers ok.
  void script(const std::string& ip, stage kind,
              std::vector<sim_answer> answers);

  /// The body `ip` answers to a successful /results ("[]" by default).
  void set_results(const std::string& ip, std::string body);

  pod_outcome post_check(const std::string& ip,
                         std::string_view connections) override;

  pod_outcome get_results(const std::string& ip) override;

  std::vector<call_record> calls() const;

  size_t calls_to(const std::string& ip, stage kind) const;

private:
  pod_outcome answer(const std::string& ip, stage kind,
                     std::string_view payload);

  mutable std::mutex mtx_;
  std::map<std::pair<std::string, stage>, std::deque<sim_answer>> scripts_;
  std::map<std::string, std::string> results_;
  std::vector<call_record> calls_;
};

} // namespace netpol
