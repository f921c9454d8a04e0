#pragma once

#include "actors/completeness.hpp"
#include "messages/interfaces.hpp"
#include "messages/settings.hpp"

#include <caf/actor_clock.hpp>

#include <array>
#include <deque>
#include <functional>
#include <unordered_map>
#include <vector>

namespace netpol {

/// `/status` lists at most this many problem pods (and counts them all):
/// when every pod of a 75,000-pod round fails, a full list would make each
/// status poll an 18 MB answer (25 KB with the cap). `?pods=1` lists all.
constexpr size_t max_listed_problems = 100;

/// Spawns one pod worker: detached with the real client in production,
/// scheduled with a simulated client in tests.
using worker_factory = std::function<pod_worker_actor(caf::actor_system&)>;

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
  bool listed_as_problem = false; // in coordinator_state::problem_pods
  std::string delivery_error;
  std::string collection_error;
  caf::timespan delivered_after{0};
  caf::timespan collected_after{0};
  shared_bytes results;
  uint32_t results_entries = 0;
  // What it was sent to test (packed) and what it reported of it.
  shared_bytes expected;
  uint32_t tests = 0;
  uint32_t reported = 0;
  uint32_t missing = 0;
  uint32_t duplicates = 0;
  uint32_t unexpected = 0;
  bool collected_once = false;    // its account is in the round's totals
  bool listed_in_report = false;  // in coordinator_state::report_pods
};

/// A worker with a call in flight.
struct busy_worker {
  pod_worker_actor handle;
  uint64_t round = 0;
  uint32_t pod = 0;
  stage kind = stage::delivery;
  std::string stale_ip; // set once its round was superseded
};

/// At most this many superseded rounds are remembered for /status.
constexpr size_t max_remembered_rounds = 5;

struct coordinator_state {
  static inline const char* name = "coordinator";

  proxy_settings settings;
  worker_factory make_worker;

  // -- the pool ---------------------------------------------------------------
  std::deque<pod_worker_actor> idle;
  std::unordered_map<caf::actor_id, busy_worker> busy;
  uint64_t worker_restarts = 0;
  proxy_metrics totals; // counters since start (its status is filled on ask)

  // -- the round --------------------------------------------------------------
  uint64_t round = 0;
  phase current = phase::idle;
  bool stop_requested = false;
  std::vector<pod_record> pods;
  std::array<uint32_t, pod_state_count> counts{};
  std::deque<uint32_t> ready; // pods whose next call can start now
  std::vector<uint32_t> problem_pods; // failed or unconfirmed, in that order
  uint32_t in_backoff = 0;
  uint32_t delivered = 0;
  uint32_t unconfirmed = 0;
  uint32_t delivery_failed = 0;
  uint64_t calls = 0;
  uint64_t retries = 0;
  uint64_t results_bytes = 0;
  uint64_t results_entries = 0;
  uint64_t digest = 0; // of the round's /initiate body
  int64_t started_unix_ms = 0;
  // -- completeness -----------------------------------------------------------
  catalog_ref catalog;
  round_completeness completeness;
  uint32_t pods_with_tests = 0;
  uint32_t pods_complete = 0; // collected, delivered, nothing missing
  std::vector<uint32_t> report_pods; // pods with a completeness problem
  std::unordered_map<uint32_t, std::vector<uint32_t>> missing_netpols;
  // -- lifecycle --------------------------------------------------------------
  std::deque<round_summary> superseded;
  uint64_t rounds_superseded = 0;
  uint64_t initiates_refused = 0;
  bool has_refusal = false;
  bool refusal_pending = false; // no round accepted since the last refusal
  refusal_note last_refusal;
  // Calls of superseded rounds still in flight, by pod IP: a new round's
  // pod at the same IP waits for them, so no pod gets two /check at once.
  std::unordered_map<std::string, uint32_t> stale_in_flight;
  std::unordered_map<std::string, std::vector<uint32_t>> deferred;
  caf::actor_clock::time_point started_at;
  caf::actor_clock::time_point delivered_at;
  caf::actor_clock::time_point stop_at;
  caf::actor_clock::time_point collected_at;
  caf::actor_clock::time_point last_progress_log;
};

/// Owns the round: validates nothing (the bridge did), remembers everything.
/// Hands each pod call to an idle worker, retries with backoff, replaces
/// workers that die, and answers status and results queries.
coordinator_actor::behavior_type
coordinator(coordinator_actor::stateful_pointer<coordinator_state> self,
            proxy_settings settings, worker_factory make_worker);

} // namespace netpol
