// The coordinator's bookkeeping of its round, apart from its behaviour:
// pod state changes and the counts and lists they keep (each change told
// to the journal). Functions of coordinator_state only; the actor
// (coordinator.cpp) sends and schedules. The round rebuilt from what a store
// kept is round_restore.
#pragma once

#include "actors/coordinator.hpp"
#include "messages/duration.hpp"

#include <vector>

namespace netpol {

/// Where a state's count is in round_progress::counts.
size_t slot(pod_state x);

bool running(const coordinator_state& st);

/// Moves a pod to `next`, keeping the counts per state.
void set_state(coordinator_state& st, pod_record& pod, pod_state next);

/// set_state without the journal's touch: for a pod whose call goes out,
/// not written to the store: the call's own row (round_store::call_started)
/// says it, and a restart reads the pod as in that call. One write a call
/// fewer.
void set_state_untouched(coordinator_state& st, pod_record& pod,
                         pod_state next);

/// The journal's commit of the round (round_journal::commit): called
/// before a /check goes out, so the call is durable (as started) before it
/// reaches a pod.
void commit(coordinator_state& st);

/// The journal's commit of what waits for a grouped commit
/// (round_journal::commit_if_due), before an answer that shows the round:
/// a restart never goes back on what was answered.
void commit_if_due(coordinator_state& st);

void queue_collection(coordinator_state& st, uint32_t index);

/// Remembers a pod that failed or is unconfirmed, once, for /status.
void note_problem(coordinator_state& st, uint32_t index);

/// Remembers a pod with a completeness problem, once, for /report.
void list_in_report(coordinator_state& st, uint32_t index);

/// Whether a pod with this account took its list, so that what it lacks is
/// missing rather than unknown.
bool took_its_list(const pod_record& pod, const pod_completeness& account);

/// Adds a collected pod's account of its tests to the round's.
void account_collected(coordinator_state& st, uint32_t index,
                       const pod_completeness& account);

/// Ends a pod's delivery in `outcome` (delivered, unconfirmed, failed).
void end_delivery(coordinator_state& st, uint32_t index, pod_state outcome);

/// A call a clean stop cut off (a /check that never went out, any
/// /results): the pod is to be asked again. One that never went out does
/// not count as an attempt; a /results that did stays counted, as after a
/// kill.
void undo_call(coordinator_state& st, uint32_t index, stage kind,
               bool request_sent);

/// Forgets the round's pods and progress (its number, its start time and
/// chart, and the history stay).
void clear_round(coordinator_state& st);

} // namespace netpol
