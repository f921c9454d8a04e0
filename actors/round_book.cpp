#include "actors/round_book.hpp"


namespace netpol {

size_t slot(pod_state x) {
  return static_cast<size_t>(x);
}

bool running(const coordinator_state& st) {
  return st.meta.current == phase::delivering
         || st.meta.current == phase::delivered
         || st.meta.current == phase::collecting;
}

void set_state(coordinator_state& st, pod_record& pod, pod_state next) {
  set_state_untouched(st, pod, next);
  st.journal.touch(st.progress.pods, pod);
}

void set_state_untouched(coordinator_state& st, pod_record& pod,
                         pod_state next) {
  --st.progress.counts[slot(pod.state)];
  ++st.progress.counts[slot(next)];
  pod.state = next;
}

void commit(coordinator_state& st) {
  st.journal.commit(st.meta, st.progress.pods);
}

void commit_if_due(coordinator_state& st) {
  st.journal.commit_if_due(st.meta, st.progress.pods);
}

void queue_collection(coordinator_state& st, uint32_t index) {
  set_state(st, st.progress.pods[index], pod_state::collect_queued);
  st.progress.ready.push_back(index);
}

void note_problem(coordinator_state& st, uint32_t index) {
  auto& pod = st.progress.pods[index];
  if (pod.listed_as_problem)
    return;
  pod.listed_as_problem = true;
  st.progress.problem_pods.push_back(index);
}

void list_in_report(coordinator_state& st, uint32_t index) {
  auto& pod = st.progress.pods[index];
  if (pod.listed_in_report)
    return;
  pod.listed_in_report = true;
  st.progress.report_pods.push_back(index);
}

bool took_its_list(const pod_record& pod, const pod_completeness& account) {
  // A pod that never took its list could not test: what it lacks is
  // unknown, not missing. So is what an unconfirmed pod lacks when it
  // reported nothing: its /check may never have reached it (cut off by a
  // restart, or by the network), and "missing" would blame the policies.
  return pod.delivery_outcome == pod_state::delivered
         || (pod.delivery_outcome == pod_state::unconfirmed
             && account.reported + account.duplicates + account.unexpected
                  > 0);
}

void account_collected(coordinator_state& st, uint32_t index,
                       const pod_completeness& account) {
  auto& pod = st.progress.pods[index];
  if (st.progress.catalog.ptr == nullptr || pod.collected_once)
    return;
  pod.collected_once = true;
  bool delivered = took_its_list(pod, account);
  st.progress.completeness.add_pod(index, account, delivered);
  pod.reported = account.reported;
  pod.missing = delivered ? account.missing : 0;
  pod.duplicates = account.duplicates;
  pod.unexpected = account.unexpected;
  if (pod.tests > 0 && pod.reported == pod.tests)
    ++st.progress.pods_complete;
  if (pod.missing > 0) {
    auto& names = st.progress.missing_netpols[index];
    for (auto& tally : account.netpols)
      if (tally.reported < tally.expected)
        names.push_back(tally.netpol);
  }
  if (pod.reported < pod.tests || pod.duplicates > 0 || pod.unexpected > 0)
    list_in_report(st, index);
}

void end_delivery(coordinator_state& st, uint32_t index, pod_state outcome) {
  auto& pod = st.progress.pods[index];
  if (outcome != pod_state::delivered)
    note_problem(st, index);
  set_state(st, pod, outcome);
  pod.delivery_outcome = outcome;
  // The list is never sent again: freeing it now leaves room for the
  // results, so a round's peak holds one of the two, not both. An
  // unconfirmed pod's is kept to ask the pod whether it holds it.
  if (outcome != pod_state::unconfirmed)
    pod.connections = {};
  switch (outcome) {
    case pod_state::delivered:
      ++st.progress.delivered;
      break;
    case pod_state::unconfirmed:
      ++st.progress.unconfirmed;
      break;
    default:
      ++st.progress.delivery_failed;
  }
}

void undo_call(coordinator_state& st, uint32_t index, stage kind,
               bool request_sent) {
  auto& pod = st.progress.pods[index];
  auto& attempts = kind == stage::delivery ? pod.delivery_attempts
                                           : pod.collection_attempts;
  if (!request_sent) {
    if (attempts > 0)
      --attempts;
    if (attempts > 0 && st.meta.retries > 0)
      --st.meta.retries;
    if (st.meta.calls > 0)
      --st.meta.calls;
  }
  set_state(st, pod,
            kind == stage::delivery ? pod_state::queued
                                    : pod_state::collect_queued);
  pod.retry_at_unix_ms = 0;
  st.progress.ready.push_back(index);
}

void clear_round(coordinator_state& st) {
  round_meta next;
  next.round = st.meta.round;
  // What /status shows of the last round until the next starts: its start
  // and its chart (the next round resets both).
  next.started_unix_ms = st.meta.started_unix_ms;
  auto timeline = std::move(st.progress.timeline);
  st.meta = next;
  st.progress = round_progress{};
  // Its pods waiting for an address go with it; the calls they waited for
  // (outside_calls) still hold the address for the next round's pods.
  st.pool.deferred.clear();
  st.progress.timeline = std::move(timeline);
}

} // namespace netpol
