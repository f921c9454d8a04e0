// The coordinator's calls to pods, apart from its behaviour (coordinator.cpp)
// and its bookkeeping (round_book): ready pods handed to idle workers, each
// /check committed to the store before it goes out, and each answer settled
// (retried after a backoff, given up, or the pod's next stage), which moves
// the round to its next phase. Functions of the coordinator's own pointer,
// run on its thread.
#pragma once

#include "actors/coordinator.hpp"

namespace netpol {

using coordinator_pointer
  = coordinator_actor::stateful_pointer<coordinator_state>;

/// A new worker in the idle pool, monitored.
void add_worker(coordinator_pointer self);

/// Hands ready pods to idle workers; a worker never holds two jobs.
void dispatch(coordinator_pointer self);

/// Leaves what changed to a commit within grouped_commit_window; answers
/// that show the round commit it first (commit_if_due).
void commit_soon(coordinator_pointer self);

/// A call the pool does not track is out to `ip`: the pool's calls to it
/// wait (worker_pool::outside_calls).
void hold_address(coordinator_state& st, const std::string& ip);

/// Such a call ended: once none is left, the pods waiting for `ip` are
/// ready again (the caller dispatches).
void release_address(coordinator_state& st, const std::string& ip);

/// Moves the round to the next phase once every pod is terminal in this one.
void update_phase(coordinator_pointer self);

/// A phase (delivery, collection) began: its progress line is logged every
/// --progress-interval until it ends, whether pod calls end or hang. Any
/// earlier phase's timer stops.
void start_progress_timer(coordinator_pointer self);

/// The progress timer `timer` fired: the line, and the next one, while its
/// phase runs (and no drain began).
void progress_timer_fired(coordinator_pointer self, uint64_t timer);

} // namespace netpol
