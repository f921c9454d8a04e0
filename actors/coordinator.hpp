#pragma once

#include "actors/completeness.hpp"
#include "actors/pod_record.hpp"
#include "actors/pod_worker.hpp"
#include "actors/round_journal.hpp"
#include "actors/round_samples.hpp"
#include "actors/round_store.hpp"
#include "actors/round_timeline.hpp"
#include "messages/interfaces.hpp"
#include "messages/settings.hpp"

#include <caf/actor_clock.hpp>
#include <caf/typed_response_promise.hpp>

#include <array>
#include <deque>
#include <functional>
#include <unordered_map>
#include <vector>

namespace netpol {

/// `/status` lists at most this many problem pods (and counts them all):
/// when every pod of a 75,000-pod round fails, a full list would make each
/// /status answer 18 MB (25 KB with the cap). `?pods=1` lists all.
constexpr size_t max_listed_problems = 100;

/// A pod call in flight: the worker making it, and what settles it.
struct call_in_flight {
  pod_worker_actor handle;
  uint64_t round = 0;
  uint32_t pod = 0;
  stage kind = stage::delivery;
  uint32_t attempt = 0;
  std::string stale_ip; // set once its round was superseded
};

/// At most this many superseded rounds are remembered for /status.
constexpr size_t max_remembered_rounds = 5;

/// The workers: idle, busy with a call, how many were replaced. Also the
/// calls still in flight that the pool does not track, by pod IP: those of
/// superseded rounds, and lists the sampler sends again. A pod's next call
/// at the same IP (a new round's /check, collection's GET) waits for them,
/// so no pod gets two /check at once, nor a list after its round.
struct worker_pool {
  std::deque<pod_worker_actor> idle;
  std::unordered_map<caf::actor_id, call_in_flight> busy;
  uint64_t restarts = 0;
  std::unordered_map<std::string, uint32_t> outside_calls;
  std::unordered_map<std::string, std::vector<uint32_t>> deferred;
};

/// Where the round's pods are, and what they reported so far: a new round
/// starts from `round_progress{}`.
struct round_progress {
  std::vector<pod_record> pods;
  std::array<uint32_t, pod_state_count> counts{};
  std::deque<uint32_t> ready; // pods whose next call can start now
  std::vector<uint32_t> problem_pods; // failed or unconfirmed, in that order
  uint32_t in_backoff = 0;
  uint32_t delivered = 0;
  uint32_t unconfirmed = 0;
  uint32_t delivery_failed = 0;
  uint64_t results_bytes = 0;
  uint64_t results_entries = 0;
  // -- completeness -----------------------------------------------------------
  catalog_ref catalog;
  round_completeness completeness;
  round_samples samples; // read during the job, from delivery to /stop
  uint32_t pods_with_tests = 0;
  uint32_t pods_complete = 0; // collected, delivered, nothing missing
  std::vector<uint32_t> report_pods; // pods with a completeness problem
  std::unordered_map<uint32_t, std::vector<uint32_t>> missing_netpols;
  // -- times ------------------------------------------------------------------
  round_timeline timeline; // counts over the round, for the live page
  caf::actor_clock::time_point started_at;
  caf::actor_clock::time_point delivered_at;
  caf::actor_clock::time_point stop_at;
  caf::actor_clock::time_point collected_at;
};

/// A clean stop: no new call starts, and the drain is answered once the
/// calls out ended.
struct drain_state {
  bool draining = false;
  uint32_t drained = 0; // calls that ended since
  std::vector<caf::typed_response_promise<uint32_t>> waiters;
};

struct coordinator_state {
  static inline const char* name = "coordinator";

  proxy_settings settings;
  worker_factory make_worker;
  round_journal journal; // the store, what changed, when to commit
  worker_pool pool;
  sampler_actor sampler; // spawned at the first sweep, monitored
  // Lists the sampler is sending again, by pod IP: each holds its address
  // (worker_pool::outside_calls) until the sampler tells its end, or dies.
  std::unordered_map<std::string, uint32_t> resends_out;
  proxy_metrics totals; // counters since start (its status is filled on ask)

  round_meta meta;          // the round's number, phase and times (as saved)
  lifecycle_meta lifecycle; // rounds superseded, the last refusal (as saved)
  round_progress progress;  // its pods and what they did

  drain_state drain;
  bool dispatch_pending = false; // a dispatch_atom to itself is on its way
  // The progress timer of the running phase (start_progress_timer); kept
  // across rounds, so a timer of an earlier phase or round never matches.
  uint64_t progress_timer = 0;
};

/// Owns the round: validates nothing (the bridge did), remembers everything.
/// Hands each pod call to an idle worker, retries with backoff, replaces
/// workers that die, and answers status and results queries.
coordinator_actor::behavior_type
coordinator(coordinator_actor::stateful_pointer<coordinator_state> self,
            proxy_settings settings, worker_factory make_worker);

/// The same, keeping the round in `store` (resuming what it holds);
/// `persistence` tells /status why there is none when `store` is null.
coordinator_actor::behavior_type
persistent_coordinator(coordinator_actor::stateful_pointer<coordinator_state> self,
                       proxy_settings settings, worker_factory make_worker,
                       round_store_ptr store, std::string persistence);

} // namespace netpol
