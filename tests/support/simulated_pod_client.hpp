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

  /// `ip` is netpol-client: its GET /status answers 200, whether it took a
  /// list and that list's SHA-256. Otherwise it is the real client (404).
  /// A pod takes the first /check whose request was written whole, but with
  /// `lose_first_check` the first one never reaches it (lost on the way).
  void answer_status(const std::string& ip, bool lose_first_check = false);

  /// Queues answers for the next GET /status calls to `ip` (ok: as above).
  void script_status(const std::string& ip, std::vector<sim_answer> answers);

  /// The list `ip` took (empty: none).
  std::string list_taken(const std::string& ip) const;

  pod_outcome post_check(const std::string& ip,
                         std::string_view connections) override;

  pod_outcome get_results(const std::string& ip) override;

  pod_outcome get_status(const std::string& ip) override;

  /// GET /status calls to `ip`, netpol-client or not.
  size_t status_calls_to(const std::string& ip) const;

  std::vector<call_record> calls() const;

  size_t calls_to(const std::string& ip, stage kind) const;

private:
  pod_outcome answer(const std::string& ip, stage kind,
                     std::string_view payload);

  /// The next scripted answer of `queue` (ok once it is used up).
  static sim_answer next_of(std::deque<sim_answer>* queue);

  /// `out` for answer `next` of a call of `kind` (an ok /results gets the
  /// pod's body).
  void fill(pod_outcome& out, sim_answer next, const std::string& ip,
            stage kind);

  struct client_pod {
    bool lose_first_check = false;
    std::string taken;
    std::deque<sim_answer> status_script;
  };

  mutable std::mutex mtx_;
  std::map<std::pair<std::string, stage>, std::deque<sim_answer>> scripts_;
  std::map<std::string, std::string> results_;
  std::vector<call_record> calls_;
  std::map<std::string, client_pod> clients_; // netpol-client pods
  std::map<std::string, size_t> status_calls_;
};

} // namespace netpol
