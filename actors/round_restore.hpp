// The round a store kept, taken up where the proxy stopped: the coordinator's
// state rebuilt from the journal's load() at start, one function per case of
// a pod whose call was cut off by the stop, and the counts and lists rebuilt
// from the pods. Functions of coordinator_state only; the actor
// (coordinator.cpp) schedules the retries it returns.
#pragma once

#include "actors/coordinator.hpp"
#include "actors/round_store.hpp"

#include <cstdint>
#include <vector>

namespace netpol {

/// A retry a restored pod was waiting for, due in `after`.
struct pending_retry {
  uint32_t pod;
  caf::timespan after;
};

/// The round a store kept, taken up where the proxy stopped: a /check that
/// was in flight may have reached its pod, so that pod is unconfirmed and
/// never sent its list again; a /results in flight is asked again; pods
/// waiting for a retry wait out the rest of their backoff (returned, for
/// the actor to schedule).
std::vector<pending_retry> restore_round(coordinator_state& st,
                                         saved_round& saved,
                                         caf::actor_clock::time_point now);

/// The round's own fields, its catalog and its clock times (unix times
/// read as points of the actor clock `now`, which is `unix_now`). False
/// when there is no round to resume (none yet, idle, or no catalog); the
/// round's number is taken up all the same.
bool restore_meta(coordinator_state& st, const saved_round& saved,
                  caf::actor_clock::time_point now, int64_t unix_now);

/// One restored pod (st.progress.pods[index]), counted and listed, its call
/// cut off by the stop taken up; a pod to retry later goes to `retries`.
/// Adds to `in_flight` for a call that was out and to `refetch` for a
/// collected pod whose results were not kept.
void restore_pod(coordinator_state& st, const saved_round& saved,
                 uint32_t index, int64_t unix_now,
                 std::vector<pending_retry>& retries, uint32_t& in_flight,
                 uint32_t& refetch);

/// A call that was out when the proxy stopped (none: no call; returned):
/// its pod's row was last written before the call went out, so the pod is
/// read as in that call with the call's attempt. The call is ended in the
/// journal as cancelled, so that a later restart does not count it again.
in_flight_stage take_up_cut_call(coordinator_state& st,
                                 const saved_round& saved, uint32_t index);

/// A /check in flight: it may have reached its pod, so the pod is
/// unconfirmed and never sent its list again.
void cut_check(coordinator_state& st, uint32_t index);

/// The delivery counts and problem list for a pod whose delivery had ended.
void recount_delivery(coordinator_state& st, uint32_t index);

/// A /stop came while its /check was out (an early /stop) or before the
/// store had the pods it stopped: the pod is collected, as /stop and
/// settle_delivery would have done (one stored before the /stop reached it
/// ends its delivery as failed).
void apply_saved_stop(coordinator_state& st, uint32_t index);

/// A /results in flight: asked again.
void ask_results_again(coordinator_state& st, uint32_t index);

/// A pod's kept results (collected, or its sample served) counted and
/// accounted, and a pod served its sample listed as a problem and counted
/// as served; false when they were not kept.
bool count_kept_results(coordinator_state& st, const saved_round& saved,
                        uint32_t index);

/// A collected pod: its kept results counted and accounted; returns false
/// when its body was not kept (a full store), the pod then asked again.
bool restore_collected(coordinator_state& st, const saved_round& saved,
                       uint32_t index);

/// A pod whose collection failed: served its sample when that was kept
/// (counted as a collected pod is), else listed as a problem (and in
/// /report when it had tests).
void relist_collect_failed(coordinator_state& st, const saved_round& saved,
                           uint32_t index);

/// The samples taken during the job of pods still to collect (sampling
/// goes on from them, and collection serves them as before the restart),
/// and the count of pods seen losing their results among them.
void restore_samples(coordinator_state& st, const saved_round& saved);

/// A pod still to be called: waits out the rest of its backoff (added to
/// `retries`, due from `unix_now`) or, without one, goes to the ready queue.
void queue_or_wait(coordinator_state& st, uint32_t index, int64_t unix_now,
                   std::vector<pending_retry>& retries);

/// The "Resumed round" line, and the warning for results asked again.
void log_resumed(const coordinator_state& st, uint32_t in_flight,
                 uint32_t refetch);

} // namespace netpol
