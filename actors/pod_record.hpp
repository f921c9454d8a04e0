// One pod of a round as the coordinator tracks it, and as a round store
// keeps it across restarts.
#pragma once

#include "messages/types.hpp"

#include <caf/timespan.hpp>

#include <cstdint>
#include <string>

namespace netpol {

/// Everything the coordinator knows about one pod of the round.
struct pod_record {
  std::string ip;
  shared_bytes connections;
  uint32_t connection_count = 0;
  pod_state state = pod_state::queued;
  pod_state delivery_outcome = pod_state::queued;
  uint32_t delivery_attempts = 0;
  uint32_t collection_attempts = 0;
  bool awaiting_retry = false;    // a retry timer is pending
  int64_t retry_at_unix_ms = 0;   // ... due then (kept across restarts)
  bool listed_as_problem = false; // in round_progress::problem_pods
  std::string delivery_error;
  std::string collection_error;
  caf::timespan delivered_after{0};
  caf::timespan collected_after{0};
  shared_bytes results;
  uint32_t results_entries = 0;
  // What it was sent to test (packed) and what it reported of it.
  shared_bytes expected;
  uint32_t tests = 0;
  bool canonical = false; // the list is connections_json(expected)
  uint32_t reported = 0;
  uint32_t missing = 0;
  uint32_t duplicates = 0;
  uint32_t unexpected = 0;
  bool collected_once = false;    // its account is in the round's totals
  bool listed_in_report = false;  // in round_progress::report_pods
  bool dirty = false;             // in round_journal's list of changed pods
  // Why its results are the sample taken during the job (round_samples),
  // and when that was; empty when they are its answer at /stop.
  std::string served_sample;
  int64_t served_sample_taken_unix_ms = 0;
  // Unconfirmed: what asking it whether it took its list settled
  // (actors/list_confirmation.hpp); cannot_ask and other_list end asking.
  list_confirmation confirmation = list_confirmation::none;
};

} // namespace netpol
