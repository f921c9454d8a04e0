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

/// What asking an unconfirmed pod (GET /status, netpol-client's) settled
/// about the list it was sent (docs/protocol.md §7).
enum class list_confirmation : uint8_t {
  none,       // not asked, or no answer: ask again
  held,       // it took the very list it was sent (its SHA-256 matches)
  sent_again, // it had taken none: the list was sent again, and taken
  not_taken,  // it had taken none (or sending it again failed): ask again
  sending_again, // it had taken none: its list is out again, not asked now
  refused,    // it had taken none, and refused it when sent again (3xx, 4xx)
  other_list, // it took another list: it stays unconfirmed
  cannot_ask, // not netpol-client (the real client answers 404)
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

// -- the round's names --------------------------------------------------------

/// Every address and netpol name of a round, each stored once; pods refer
/// to them by index. Read-only once the round starts, shared by workers.
struct round_catalog {
  std::vector<std::string> addresses;
  std::vector<std::string> netpols;
  std::vector<uint32_t> netpol_tests; // expected tests per netpol
  std::vector<uint32_t> netpol_pods;  // pods testing each netpol
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, round_catalog& x) {
  return f(caf::meta::type_name("round_catalog"), x.addresses, x.netpols,
           x.netpol_tests, x.netpol_pods);
}

/// A round's catalog, shared between actors of this process without
/// copying (it never leaves the process: inspecting shows its size only).
struct catalog_ref {
  std::shared_ptr<const round_catalog> ptr;

  friend bool operator==(const catalog_ref& x, const catalog_ref& y) {
    return x.ptr == y.ptr;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, catalog_ref& x) {
  uint64_t netpols = x.ptr ? x.ptr->netpols.size() : 0;
  auto load = [&]() -> caf::error {
    x.ptr = std::make_shared<const round_catalog>();
    return caf::none;
  };
  return f(caf::meta::type_name("catalog_ref"), netpols,
           caf::meta::load_callback(load));
}

// -- completeness -------------------------------------------------------------

/// A success timestamp as a pod sent it, with its instant for ordering.
struct success_time {
  int64_t seconds = 0; // Unix seconds, UTC
  uint32_t nanos = 0;
  std::string text;    // empty: no success yet

  bool empty() const {
    return text.empty();
  }

  bool before(const success_time& other) const {
    return seconds < other.seconds
           || (seconds == other.seconds && nanos < other.nanos);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, success_time& x) {
  return f(caf::meta::type_name("success_time"), x.seconds, x.nanos, x.text);
}

/// One pod's account of one netpol.
struct netpol_tally {
  uint32_t netpol = 0; // index into the round's catalog
  uint32_t expected = 0;
  uint32_t reported = 0;
  success_time first; // of every matching entry, repeats included
  success_time last;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, netpol_tally& x) {
  return f(caf::meta::type_name("netpol_tally"), x.netpol, x.expected,
           x.reported, x.first, x.last);
}

/// What one collected pod reported against what it was sent.
struct pod_completeness {
  uint32_t expected = 0;   // tests in its list
  uint32_t reported = 0;   // expected tests matched at least once
  uint32_t missing = 0;    // expected tests never matched
  uint32_t duplicates = 0; // entries matching a test already matched
  uint32_t unexpected = 0; // entries matching no expected test
  std::vector<netpol_tally> netpols;
  // Tests first matched per Unix second: second_keys[i] -> second_counts[i].
  std::vector<int64_t> second_keys;
  std::vector<uint32_t> second_counts;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pod_completeness& x) {
  return f(caf::meta::type_name("pod_completeness"), x.expected, x.reported,
           x.missing, x.duplicates, x.unexpected, x.netpols, x.second_keys,
           x.second_counts);
}

/// The round's completeness, so far while collecting.
struct completeness_totals {
  uint64_t expected = 0;
  uint64_t reported = 0;
  uint64_t missing = 0;
  uint64_t duplicates = 0;
  uint64_t unexpected = 0;
  uint64_t unknown = 0; // tests of pods not collected, or never delivered
  uint32_t pods_incomplete = 0;    // pods with a missing or unknown test
  uint32_t netpols_incomplete = 0; // netpols with a missing or unknown test
  uint32_t netpols_missing = 0;    // netpols with a missing test
  uint32_t netpols = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, completeness_totals& x) {
  return f(caf::meta::type_name("completeness_totals"), x.expected,
           x.reported, x.missing, x.duplicates, x.unexpected, x.unknown,
           x.pods_incomplete, x.netpols_incomplete, x.netpols_missing,
           x.netpols);
}

/// Expected tests succeeded by each bucket since the earliest success.
struct enforcement_curve {
  success_time start;          // the earliest success
  uint32_t bucket_seconds = 1; // widened for long windows
  std::vector<uint64_t> succeeded; // cumulative, one per bucket
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, enforcement_curve& x) {
  return f(caf::meta::type_name("enforcement_curve"), x.start,
           x.bucket_seconds, x.succeeded);
}

// -- pod jobs ------------------------------------------------------------------

/// One call to one pod, handed by the coordinator to an idle worker.
struct pod_job {
  uint64_t round = 0;
  uint32_t pod = 0;     // index into the round's pod list
  std::string ip;       // the key kube-burner sent, exactly
  shared_bytes payload; // delivery: the pod's connection array; else empty
  // Collection: the pod's expected tests (packed) and the round's names,
  // to match what it reports against what it was sent.
  shared_bytes expected;
  catalog_ref catalog;
  bool compress = false; // collection: also return the body compressed

  friend bool operator==(const pod_job& x, const pod_job& y) {
    return x.round == y.round && x.pod == y.pod && x.ip == y.ip
           && x.payload == y.payload && x.expected == y.expected;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pod_job& x) {
  return f(caf::meta::type_name("pod_job"), x.round, x.pod, x.ip, x.payload,
           x.expected, x.catalog, x.compress);
}

/// What a worker reports back for one job.
struct pod_outcome {
  call_status status = call_status::ok;
  uint16_t http_status = 0; // 0 when no HTTP answer arrived
  // The whole request reached the socket, so the pod may have taken it: a
  // /check that failed after that is never sent again (docs/protocol.md §7).
  bool request_sent = false;
  std::string detail;       // human-readable reason for anything but ok
  shared_bytes body;        // collection: the validated results array
  uint32_t entries = 0;     // collection: number of connTest objects
  pod_completeness completeness; // collection: reported against expected
  shared_bytes compressed;       // collection: the body, for a round store
  caf::timespan elapsed{0};
  list_confirmation confirmation = list_confirmation::none; // confirm only
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pod_outcome& x) {
  return f(caf::meta::type_name("pod_outcome"), x.status, x.http_status,
           x.request_sent, x.detail, x.body, x.entries, x.completeness,
           x.compressed, x.elapsed, x.confirmation);
}

/// The pods a sampler reads once each, in this order (round, its pods).
struct sample_sweep {
  uint64_t round = 0;
  std::vector<pod_job> jobs;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sample_sweep& x) {
  return f(caf::meta::type_name("sample_sweep"), x.round, x.jobs);
}

// -- rounds --------------------------------------------------------------------

/// One pod of a validated /initiate body.
struct pod_plan {
  std::string ip;
  shared_bytes connections; // the pod's JSON array of connections
  uint32_t connection_count = 0;
  shared_bytes expected;    // its tests, packed (actors/completeness.hpp)
  uint32_t tests = 0;       // (connection, address, port) triples
  // The list is exactly connections_json(expected): kube-burner's key
  // order, no repeats, nothing to escape. A store then keeps only `expected`.
  bool canonical = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pod_plan& x) {
  return f(caf::meta::type_name("pod_plan"), x.ip, x.connections,
           x.connection_count, x.expected, x.tests, x.canonical);
}

/// A validated /initiate body: what a new round delivers.
struct round_plan {
  std::vector<pod_plan> pods;
  catalog_ref catalog;
  // Tells a repeated /initiate of the same body from a new one.
  uint64_t digest = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, round_plan& x) {
  return f(caf::meta::type_name("round_plan"), x.pods, x.catalog, x.digest);
}

/// The cheap summary answered to every poll (and to /initiate and /stop).
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
  // Set while the last /initiate was refused and no round runs since: the
  // polls that follow must not read as a round (docs/protocol.md §6).
  std::string refusal;

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
           x.delivery_failed, x.refusal);
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
  // Its last sample during the job that extended the one before (0 entries
  // and time when none), and when an answer first did not extend it.
  uint32_t sample_entries = 0;
  int64_t sample_taken_unix_ms = 0;
  int64_t restart_seen_unix_ms = 0;
  std::string served_sample; // why its results are that sample, if they are
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pod_detail& x) {
  return f(caf::meta::type_name("pod_detail"), x.ip, x.state,
           x.delivery_outcome, x.delivery_attempts, x.collection_attempts,
           x.delivery_error, x.collection_error, x.delivered_after,
           x.collected_after, x.results_entries, x.sample_entries,
           x.sample_taken_unix_ms, x.restart_seen_unix_ms, x.served_sample);
}

/// Sampling during the job, for /status.
struct sampling_totals {
  caf::timespan interval{0}; // 0: sampling is off
  uint64_t sweeps = 0;       // sweeps that ended this round
  uint64_t taken = 0;        // answers that validated
  uint64_t failed = 0;       // answers that did not, or none
  uint32_t pods_sampled = 0; // pods with a sample now
  uint32_t restarted = 0;    // pods seen losing their results
  uint32_t served = 0;       // pods whose /results is their sample
  int64_t last_sweep_ms = 0;
  // Unconfirmed pods asked whether they took their list (GET /status), and
  // what that settled.
  uint32_t confirm_asked = 0;   // pods asked at least once
  uint32_t confirm_held = 0;    // it held its list: now delivered
  uint32_t confirm_sent = 0;    // it had none: sent again, now delivered
  uint32_t confirm_cannot = 0;  // cannot be asked (the real client)
  uint32_t confirm_other = 0;   // holds another list
  uint32_t confirm_refused = 0; // took none, refused it sent again: failed
  uint64_t confirm_failed = 0;  // asks that got no answer to read
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sampling_totals& x) {
  return f(caf::meta::type_name("sampling_totals"), x.interval, x.sweeps,
           x.taken, x.failed, x.pods_sampled, x.restarted, x.served,
           x.last_sweep_ms, x.confirm_asked, x.confirm_held, x.confirm_sent,
           x.confirm_cannot, x.confirm_other, x.confirm_refused,
           x.confirm_failed);
}

/// A round that a new /initiate ended before it was collected.
struct round_summary {
  uint64_t round = 0;
  phase ended_in = phase::idle;
  uint32_t pods = 0;
  uint32_t delivered = 0;
  uint32_t unconfirmed = 0;
  uint32_t delivery_failed = 0;
  uint32_t collected = 0;
  uint32_t collect_failed = 0;
  uint32_t in_flight = 0;    // calls whose answers were discarded
  int64_t ended_unix_ms = 0;
  std::string by;            // "round 4" or "a refused /initiate"
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, round_summary& x) {
  return f(caf::meta::type_name("round_summary"), x.round, x.ended_in, x.pods,
           x.delivered, x.unconfirmed, x.delivery_failed, x.collected,
           x.collect_failed, x.in_flight, x.ended_unix_ms, x.by);
}

/// The last /initiate the proxy refused.
struct refusal_note {
  uint16_t http_status = 0;
  std::string reason;
  int64_t at_unix_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, refusal_note& x) {
  return f(caf::meta::type_name("refusal_note"), x.http_status, x.reason,
           x.at_unix_ms);
}

/// Pods by state over the round, for the live page: one column per
/// sample, `at_ms` after /initiate; `counts` holds pod_state_count values
/// per sample, state by state.
struct state_timeline {
  uint32_t interval_ms = 0; // between samples, widened as the round goes on
  std::vector<uint32_t> at_ms;
  std::vector<uint32_t> counts;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_timeline& x) {
  return f(caf::meta::type_name("state_timeline"), x.interval_ms, x.at_ms,
           x.counts);
}

/// The round in detail, for /status.
struct status_report {
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
  uint32_t retrying_total = 0;      // pods waiting for a retry's backoff
  std::vector<pod_detail> retrying; // the first of them (all with `pods`)
  std::vector<pod_detail> pods;     // every pod, only when asked for
  bool has_completeness = false;    // from /stop on
  completeness_totals completeness;
  std::vector<round_summary> superseded; // the latest last
  bool has_refusal = false;
  refusal_note last_refusal;
  std::string persistence; // "on: <path>", "degraded: <why>", "off: <why>"
  state_timeline timeline;  // from /initiate to now
  sampling_totals sampling;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, status_report& x) {
  return f(caf::meta::type_name("status_report"), x.status, x.started_unix_ms,
           x.delivery_duration, x.collection_duration, x.calls, x.retries,
           x.worker_restarts, x.results_bytes, x.results_entries,
           x.problems_total, x.problems, x.retrying_total, x.retrying,
           x.pods, x.has_completeness,
           x.completeness, x.superseded, x.has_refusal, x.last_refusal,
           x.persistence, x.timeline, x.sampling);
}

/// One netpol in /report.
struct netpol_report {
  std::string name;
  uint32_t expected = 0;
  uint32_t reported = 0;
  uint32_t missing = 0;
  uint32_t unknown = 0;
  uint32_t pods = 0;         // pods sent a test of it
  uint32_t pods_missing = 0; // collected pods with a missing test of it
  success_time first;
  success_time last;
  std::vector<std::string> sample_pods; // a few with a missing test
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, netpol_report& x) {
  return f(caf::meta::type_name("netpol_report"), x.name, x.expected,
           x.reported, x.missing, x.unknown, x.pods, x.pods_missing, x.first,
           x.last, x.sample_pods);
}

/// One pod with a completeness problem in /report.
struct pod_completeness_row {
  std::string ip;
  pod_state state = pod_state::queued;
  pod_state delivery = pod_state::queued;
  uint32_t expected = 0;
  uint32_t reported = 0;
  uint32_t missing = 0;
  uint32_t duplicates = 0;
  uint32_t unexpected = 0;
  uint32_t unknown = 0;
  std::vector<std::string> missing_netpols;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        pod_completeness_row& x) {
  return f(caf::meta::type_name("pod_completeness_row"), x.ip, x.state,
           x.delivery, x.expected, x.reported, x.missing, x.duplicates,
           x.unexpected, x.unknown, x.missing_netpols);
}

/// /report: what was expected against what came back, per netpol and pod.
struct completeness_report {
  uint64_t round = 0;
  phase current = phase::idle;
  bool collection_done = false;
  completeness_totals totals;
  uint32_t netpols_total = 0;
  std::vector<netpol_report> netpols; // worst first
  uint32_t pods_total = 0;            // pods with a problem
  std::vector<pod_completeness_row> pods;
  enforcement_curve curve;
  // During the job (before /stop), from the last sweep's samples
  // (--sample-interval): the oldest of them, and the pods they cover.
  bool from_samples = false;
  int64_t oldest_sample_unix_ms = 0;
  uint32_t pods_sampled = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        completeness_report& x) {
  return f(caf::meta::type_name("completeness_report"), x.round, x.current,
           x.collection_done, x.totals, x.netpols_total, x.netpols,
           x.pods_total, x.pods, x.curve, x.from_samples,
           x.oldest_sample_unix_ms, x.pods_sampled);
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
  bool has_completeness = false;
  completeness_totals completeness;
  sampling_totals sampling;
  // During the job, what the last sweep's samples say (as /report does).
  bool has_sampled_completeness = false;
  completeness_totals sampled_completeness;
  uint64_t rounds_superseded = 0;
  uint64_t initiates_refused = 0;

  uint64_t calls_of(stage s, call_status x) const {
    return calls[static_cast<size_t>(s) * call_status_count
                 + static_cast<size_t>(x)];
  }

  /// One call that ended: its outcome and its latency.
  void count_call(stage kind, call_status x, double seconds) {
    auto s = static_cast<size_t>(kind);
    ++calls[s * call_status_count + static_cast<size_t>(x)];
    latency_sum[s] += seconds;
    for (size_t i = 0; i < call_latency_bucket_count; ++i)
      if (seconds <= call_latency_buckets[i])
        ++latency_buckets[s * call_latency_bucket_count + i];
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, proxy_metrics& x) {
  return f(caf::meta::type_name("proxy_metrics"), x.status, x.workers,
           x.rounds, x.worker_restarts, x.retries, x.calls, x.latency_buckets,
           x.latency_sum, x.delivery_duration, x.collection_duration,
           x.results_bytes, x.results_entries, x.has_completeness,
           x.completeness, x.sampling, x.has_sampled_completeness,
           x.sampled_completeness, x.rounds_superseded, x.initiates_refused);
}

} // namespace netpol
