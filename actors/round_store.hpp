// What the coordinator keeps of its round so that a restart of the proxy
// loses nothing: written as the round goes, read back once at start. The
// SQLite store (sqlite_round_store) keeps it in a file in --state-dir; the
// in-memory twin (tests/support/memory_round_store) serves the deterministic
// tests.
#pragma once

#include "actors/pod_record.hpp"
#include "messages/types.hpp"

#include <memory>
#include <string>
#include <vector>

namespace netpol {

/// The round's own fields.
struct round_meta {
  uint64_t round = 0; // 0: no round yet
  phase current = phase::idle;
  bool stop_requested = false;
  uint64_t digest = 0;
  int64_t started_unix_ms = 0;
  int64_t delivered_unix_ms = 0; // 0 until delivery ended
  int64_t stop_unix_ms = 0;
  int64_t collected_unix_ms = 0;
  uint64_t calls = 0;
  uint64_t retries = 0;
};

/// What outlives rounds: those superseded, and the last refusal.
struct lifecycle_meta {
  std::vector<round_summary> superseded;
  uint64_t rounds_superseded = 0;
  uint64_t initiates_refused = 0;
  bool has_refusal = false;
  bool refusal_pending = false;
  refusal_note last_refusal;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lifecycle_meta& x) {
  return f(caf::meta::type_name("lifecycle_meta"), x.superseded,
           x.rounds_superseded, x.initiates_refused, x.has_refusal,
           x.refusal_pending, x.last_refusal);
}

/// The stage of a call that was out when the proxy stopped (none: no call).
enum class in_flight_stage : uint8_t { none, delivery, collection };

/// One pod's sample during the job (round_samples' pod_sample) as a store
/// keeps it: its body compressed (compress_blob).
struct stored_sample {
  uint32_t pod = 0;
  uint32_t entries = 0;
  int64_t taken_unix_ms = 0;
  // Written as the first answer that did not extend it came (1); later
  // ones are not written.
  uint32_t not_extending = 0;
  int64_t restart_seen_unix_ms = 0;
  shared_bytes compressed;
};

/// A round as read back at start.
struct saved_round {
  round_meta meta;
  lifecycle_meta lifecycle;
  catalog_ref catalog;
  // Lists rebuilt for pods still to be delivered, results where kept.
  std::vector<pod_record> pods;
  // Per pod: what a collected pod reported against what it was sent,
  // matched again from its results (not stored: as big as the results).
  std::vector<pod_completeness> accounts;
  // Per pod: a call whose start was committed and whose end was not, and
  // its attempt. The pod's own row is not written when a call goes out:
  // the call's row says it (see restore_round).
  std::vector<in_flight_stage> in_flight;
  std::vector<uint32_t> in_flight_attempt;
  std::vector<bool> results_kept;         // per pod: false means fetch again
  // The samples taken during the job, one a pod (restore_samples keeps
  // those of pods still to collect).
  std::vector<stored_sample> samples;
  // The round's calls as /metrics counts them: those that ended by outcome,
  // with their latency, and the retries among those started. Only `calls`,
  // `retries`, `latency_buckets` and `latency_sum` are set; a restart's
  // counters go on from them.
  proxy_metrics call_totals;
};

class round_store {
public:
  virtual ~round_store() = default;

  /// For /status: "on: <path>", or "degraded: <why>" once a write failed
  /// (the round goes on in memory).
  virtual std::string health() const = 0;

  /// A new round: its names and every pod. Older rounds are dropped.
  virtual void begin_round(const round_meta& meta,
                           const round_catalog& catalog,
                           const std::vector<pod_record>& pods)
    = 0;

  virtual void save_round(const round_meta& meta) = 0;

  virtual void save_lifecycle(const lifecycle_meta& lifecycle) = 0;

  /// A pod's state, attempts, errors and timings.
  virtual void save_pod(uint64_t round, uint32_t index, const pod_record& pod)
    = 0;

  /// A collected pod: its body compressed (compress_blob; empty: not kept,
  /// fetch again).
  virtual void save_collected(uint64_t round, uint32_t index,
                              const shared_bytes& compressed)
    = 0;

  /// A pod's sample during the job, replacing the one before.
  virtual void save_sample(uint64_t round, uint32_t index,
                           const stored_sample& sample)
    = 0;

  /// A call is about to go out: once committed, a stop of the proxy before
  /// call_ended leaves it "in flight", and a /check in flight is never sent
  /// again.
  virtual void call_started(uint64_t round, uint32_t index, stage kind,
                            uint32_t attempt, int64_t unix_ms)
    = 0;

  virtual void call_ended(uint64_t round, uint32_t index, stage kind,
                          uint32_t attempt, const pod_outcome& outcome)
    = 0;

  /// Makes everything written so far survive a crash of the process.
  virtual void commit() = 0;

  /// Whether writes wait for commit().
  virtual bool pending() const = 0;

  /// The latest round and the lifecycle, as last committed.
  virtual saved_round load() = 0;
};

using round_store_ptr = std::shared_ptr<round_store>;

/// What a store does not keep verbatim, rebuilt for one loaded pod: its
/// list while it is still to be delivered (from `stored_list` when given,
/// else from its tests) or, from `stored_list`, while it is unconfirmed
/// (to ask whether it holds it), its results from `compressed` (a collected pod's,
/// or a pod served its sample) and, from them, its account, matched as the
/// worker matched it. Returns whether the results were there.
bool rebuild_loaded_pod(const round_catalog& catalog, pod_record& pod,
                        const std::string* stored_list,
                        std::string_view compressed,
                        pod_completeness& account);

/// zstd (level 1) of bytes a store keeps (a results body, an account, the
/// catalog), with their size in front; empty on failure.
shared_bytes compress_blob(std::string_view bytes);

/// The bytes back (zstd, or zlib as stores before zstd hold them); false if
/// `compressed` is not what compress_blob made.
bool decompress_blob(std::string_view compressed, std::string& bytes);

} // namespace netpol
