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

/// Moves the round to the next phase once every pod is terminal in this one.
void update_phase(coordinator_pointer self);

} // namespace netpol
