// Message payloads exchanged between the HTTP bridge, the coordinator and the
// pod workers. Plain data with an inspect() each, so CAF can carry them.
#pragma once

#include <utility>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/timespan.hpp>

#include <cstdint>
#include <utility>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace netpol {

// -- enums ---------------------------------------------------------------------

/// The round's phase, in order: idle → delivering → delivered → collecting →
/// collected.
enum class phase : uint8_t { idle, delivering, delivered, collecting, collected };

/// Where one pod stands in the round.
enum class pod_state : uint8_t {
  queued,         // waiting for a worker (or for its retry backoff to expire)
  delivering,     // POST /check in flight
  delivered,      // the pod answered /check with 2xx
  unconfirmed,    // no 2xx, but an attempt timed out: the pod may hold the list
  failed,         // delivery gave up: refused, reset, rejected, ...
  collect_queued, // waiting for a worker to fetch its results
  collecting,     // GET /results in flight
  collected,      // results fetched and validated
  collect_failed, // collection gave up
};

constexpr size_t pod_state_count = 9;

/// Which of the two pod calls a job makes.
enum class stage : uint8_t { delivery, collection };

/// How one pod call ended, as the pod client and worker classify it.
enum class call_status : uint8_t {
  ok,             // 2xx, and for /results a valid body
  refused,        // nothing listening (or host unreachable)
  reset,          // connection closed or reset before the answer was whole
  timeout,        // no connection, or no whole answer, by the call's deadline
  http_error,     // a non-2xx status
  bad_body,       // /results answered something kube-burner cannot decode
  too_large,      // /results body over --max-response
  worker_crashed, // the worker died (or never answered) while making the call
  bad_answer,     // not well-formed HTTP, or over a cap on the answer's head
  cancelled,      // the proxy is shutting down
};

const char* to_string(phase x);
const char* to_string(pod_state x);
const char* to_string(stage x);
const char* to_string(call_status x);

/// True for the states a pod can end delivery in.
bool is_delivery_terminal(pod_state x);

/// True for the states a pod can end collection in.
bool is_collection_terminal(pod_state x);

// -- shared_bytes --------------------------------------------------------------

/// Immutable bytes shared between actors without copying: the connection list
/// sent to a pod and the results it answered can be tens of megabytes in all.
struct shared_bytes {
  std::shared_ptr<const std::string> ptr;

  shared_bytes() = default;
  explicit shared_bytes(std::string bytes)
    : ptr(std::make_shared<const std::string>(std::move(bytes))) {
  }

  size_t size() const {
    return ptr ? ptr->size() : 0;
  }

  std::string_view view() const {
    return ptr ? std::string_view{*ptr} : std::string_view{};
  }

  friend bool operator==(const shared_bytes& x, const shared_bytes& y) {
    return x.view() == y.view();
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shared_bytes& x) {
  // Copies only when inspected (serialization, test output), never on a
  // local send.
  std::string bytes{x.view()};
  auto load = [&]() -> caf::error {
    x = shared_bytes{std::move(bytes)};
    return caf::none;
  };
  return f(caf::meta::type_name("shared_bytes"), bytes,
           caf::meta::load_callback(load));
}

// -- pod jobs ------------------------------------------------------------------

/// One call to one pod, handed by the coordinator to an idle worker.
struct pod_job {
  uint64_t round = 0;
  uint32_t pod = 0;     // index into the round's pod list
  std::string ip;       // the key kube-burner sent, exactly
  shared_bytes payload; // delivery: the pod's connection array; else empty

  friend bool operator==(const pod_job& x, const pod_job& y) {
    return x.round == y.round && x.pod == y.pod && x.ip == y.ip
           && x.payload == y.payload;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pod_job& x) {
  return f(caf::meta::type_name("pod_job"), x.round, x.pod, x.ip, x.payload);
}

/// What a worker reports back for one job.
struct pod_outcome {
  call_status status = call_status::ok;
  uint16_t http_status = 0; // 0 when no HTTP answer arrived
  // The whole request reached the socket, so the pod may have taken it: a
  // /check that failed after that is never sent again (protocol.md §7).
  bool request_sent = false;
  std::string detail;       // human-readable reason for anything but ok
  shared_bytes body;        // collection: the validated results array
  uint32_t entries = 0;     // collection: number of connTest objects
  caf::timespan elapsed{0};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pod_outcome& x) {
  return f(caf::meta::type_name("pod_outcome"), x.status, x.http_status,
           x.request_sent, x.detail, x.body, x.entries, x.elapsed);
}

// -- rounds --------------------------------------------------------------------

/// One pod of a validated /initiate body.
struct pod_plan {
  std::string ip;
  shared_bytes connections; // the pod's JSON array of connections
  uint32_t connection_count = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pod_plan& x) {
  return f(caf::meta::type_name("pod_plan"), x.ip, x.connections,
           x.connection_count);
}

/// A validated /initiate body: what a new round delivers.
struct round_plan {
  std::vector<pod_plan> pods;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, round_plan& x) {
  return f(caf::meta::type_name("round_plan"), x.pods);
}

/// The cheap summary answered to every status poll.
struct round_status {
  uint64_t round = 0; // 0 before the first /initiate
  phase current = phase::idle;
  uint32_t pods = 0;
  std::vector<uint32_t> counts = std::vector<uint32_t>(pod_state_count, 0);
  uint32_t in_backoff = 0; // queued pods waiting for a retry timer
  // How delivery ended, kept after the pods move on to collection.
  uint32_t delivered = 0;
  uint32_t unconfirmed = 0;
  uint32_t delivery_failed = 0;

  uint32_t count(pod_state x) const {
    return counts[static_cast<size_t>(x)];
  }

  /// What /checkConnectionsStatus reports as "result".
  bool delivery_done() const {
    return current == phase::delivered || current == phase::collecting
           || current == phase::collected;
  }

  /// What /checkStopStatus reports as "result".
  bool collection_done() const {
    return current == phase::collected;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, round_status& x) {
  return f(caf::meta::type_name("round_status"), x.round, x.current, x.pods,
           x.counts, x.in_backoff, x.delivered, x.unconfirmed,
           x.delivery_failed);
}

/// One pod in detail, for /status.
struct pod_detail {
  std::string ip;
  pod_state state = pod_state::queued;
  pod_state delivery_outcome = pod_state::queued; // delivered, unconfirmed,
                                                  // failed once settled
  uint32_t delivery_attempts = 0;
  uint32_t collection_attempts = 0;
  std::string delivery_error;   // the last failed delivery call, if any
  std::string collection_error; // the last failed collection call, if any
  caf::timespan delivered_after{0}; // since /initiate; 0 if not delivered
  caf::timespan collected_after{0}; // since /stop; 0 if not collected
  uint32_t results_entries = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pod_detail& x) {
  return f(caf::meta::type_name("pod_detail"), x.ip, x.state,
           x.delivery_outcome, x.delivery_attempts, x.collection_attempts,
           x.delivery_error, x.collection_error, x.delivered_after,
           x.collected_after, x.results_entries);
}

/// The round in detail, for /status.
struct round_report {
  round_status status;
  int64_t started_unix_ms = 0;          // wall clock of /initiate; 0 if none
  caf::timespan delivery_duration{0};   // so far, if still delivering
  caf::timespan collection_duration{0}; // so far, if still collecting
  uint64_t calls = 0;                   // pod calls made this round
  uint64_t retries = 0;                 // calls that were retries
  uint64_t worker_restarts = 0;         // since the proxy started
  uint64_t results_bytes = 0;
  uint64_t results_entries = 0;
  uint32_t problems_total = 0;      // pods not delivered or not collected
  std::vector<pod_detail> problems; // the first of them (all with `pods`)
  std::vector<pod_detail> pods;     // every pod, only when asked for
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, round_report& x) {
  return f(caf::meta::type_name("round_report"), x.status, x.started_unix_ms,
           x.delivery_duration, x.collection_duration, x.calls, x.retries,
           x.worker_restarts, x.results_bytes, x.results_entries,
           x.problems_total, x.problems, x.pods);
}

/// One collected pod's results, shared with the bridge for streaming.
struct pod_results {
  std::string ip;
  shared_bytes body;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pod_results& x) {
  return f(caf::meta::type_name("pod_results"), x.ip, x.body);
}

/// Every collected pod's results, in the order /initiate named the pods.
struct results_snapshot {
  uint64_t round = 0;
  std::vector<pod_results> pods;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, results_snapshot& x) {
  return f(caf::meta::type_name("results_snapshot"), x.round, x.pods);
}

/// Upper bounds (seconds) of the pod call latency histogram buckets.
inline constexpr double call_latency_buckets[]
  = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
     0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};
constexpr size_t call_latency_bucket_count
  = sizeof(call_latency_buckets) / sizeof(double);
constexpr size_t call_status_count = 10;
constexpr size_t stage_count = 2;

/// Counters since the proxy started, for /metrics.
struct proxy_metrics {
  round_status status; // the current (or last) round
  uint32_t workers = 0;
  uint64_t rounds = 0;
  uint64_t worker_restarts = 0;
  std::vector<uint64_t> retries = std::vector<uint64_t>(stage_count, 0);
  // calls[stage * call_status_count + status]
  std::vector<uint64_t> calls
    = std::vector<uint64_t>(stage_count * call_status_count, 0);
  // Cumulative Prometheus buckets per stage, then the +Inf count is the sum
  // of calls for that stage: latency_buckets[stage * bucket_count + i].
  std::vector<uint64_t> latency_buckets
    = std::vector<uint64_t>(stage_count * call_latency_bucket_count, 0);
  std::vector<double> latency_sum = std::vector<double>(stage_count, 0.0);
  caf::timespan delivery_duration{0};
  caf::timespan collection_duration{0};
  uint64_t results_bytes = 0;
  uint64_t results_entries = 0;

  uint64_t calls_of(stage s, call_status x) const {
    return calls[static_cast<size_t>(s) * call_status_count
                 + static_cast<size_t>(x)];
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, proxy_metrics& x) {
  return f(caf::meta::type_name("proxy_metrics"), x.status, x.workers,
           x.rounds, x.worker_restarts, x.retries, x.calls, x.latency_buckets,
           x.latency_sum, x.delivery_duration, x.collection_duration,
           x.results_bytes, x.results_entries);
}

} // namespace netpol
