// What the proxy read of each pod's /results during the job, between the
// end of delivery and /stop: the latest sample that extends the one
// before it. A client pod only appends to its results (docs/protocol.md
// §7), so an answer that does not extend the last sample means the pod
// lost what it had (it restarted); the earlier sample is kept, and it is
// what /results serves for the pod if its answer at /stop does not extend
// it or never comes.
#pragma once

#include "actors/completeness.hpp"
#include "messages/types.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace netpol {

/// One pod's last sample that extended the one before: only its bytes, so
/// samples cost a round about the memory its collected results do. What it
/// says of the pod's tests is worked out if it is served (a few pods).
struct pod_sample {
  shared_bytes body; // validated, byte for byte as the pod sent it
  uint32_t entries = 0;
  int64_t taken_unix_ms = 0;
  // Answers since that did not extend it (the pod lost its results), and
  // when the first came.
  uint32_t not_extending = 0;
  int64_t restart_seen_unix_ms = 0;
};

/// Whether results body `newer` is `older` (of `older_entries` entries) with
/// entries added at the end, or the same entries. Both are bodies that
/// validate_results_body accepted; compact and indented arrays both work.
bool extends(std::string_view older, uint32_t older_entries,
             std::string_view newer);

/// What taking a sample did.
enum class sample_taken {
  first,         // the pod's first sample
  extended,      // it extends the last one, and replaced it
  not_extending, // it does not: the last one stays (the pod restarted)
};

/// A pod in a sampled view that /report lists: one with a test not (yet)
/// reported, a duplicate or an unexpected entry.
struct sampled_pod {
  uint32_t index = 0;
  uint32_t reported = 0;
  uint32_t missing = 0;
  uint32_t duplicates = 0;
  uint32_t unexpected = 0;
  uint32_t unknown = 0;
  std::vector<uint32_t> missing_netpols; // netpol ids
};

/// What one sweep's samples say of the round's tests: each pod's sample as
/// it stood in that sweep, added up as collection adds up collected pods,
/// so /report can answer during the job in the shape it has after /stop.
/// Pods without a sample are unknown.
struct sampled_view {
  round_completeness completeness;
  std::vector<sampled_pod> listed; // in the order the samples came
  uint32_t pods = 0;               // pods accounted (with a sample)
  uint32_t pods_complete = 0;      // of them, every test reported
  int64_t oldest_unix_ms = 0;      // the oldest sample accounted

  explicit sampled_view(round_catalog_ptr catalog);

  /// Pod `index` (of `tests` expected tests), by its sample taken at
  /// `taken_unix_ms`; `delivered` as for a collected pod (round_book.cpp).
  void add(uint32_t index, uint32_t tests, const pod_completeness& account,
           bool delivered, int64_t taken_unix_ms);
};

/// The samples of a round's pods, by pod index, and what sampling counted.
struct round_samples {
  std::unordered_map<uint32_t, pod_sample> pods;
  uint64_t taken = 0;       // answers that validated
  uint64_t failed = 0;      // answers that did not (or no answer)
  uint64_t sweeps = 0;      // sweeps that ended
  uint32_t restarted = 0;   // pods seen losing their results
  uint32_t served = 0;      // pods whose /results is their sample
  int64_t last_sweep_ms = 0; // how long the last sweep took
  bool sweep_running = false;
  int64_t sweep_started_unix_ms = 0;
  sampling_totals confirmations; // only its confirm_ fields
  std::optional<sampled_view> building; // the sweep running
  std::optional<sampled_view> view;     // the last sweep that ended

  /// Takes a validated answer of pod `index` at `now_unix_ms`.
  sample_taken take(uint32_t index, pod_outcome& out, int64_t now_unix_ms);

  /// The pod's sample, or null.
  const pod_sample* find(uint32_t index) const;
};

} // namespace netpol
