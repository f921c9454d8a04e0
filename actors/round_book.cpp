#include "actors/round_book.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

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

void account_collected(coordinator_state& st, uint32_t index,
                       const pod_completeness& account) {
  auto& pod = st.progress.pods[index];
  if (st.progress.catalog.ptr == nullptr || pod.collected_once)
    return;
  pod.collected_once = true;
  // A pod that never took its list could not test: what it lacks is
  // unknown, not missing. So is what an unconfirmed pod lacks when it
  // reported nothing: its /check may never have reached it (cut off by a
  // restart, or by the network), and "missing" would blame the policies.
  bool delivered
    = pod.delivery_outcome == pod_state::delivered
      || (pod.delivery_outcome == pod_state::unconfirmed
          && account.reported + account.duplicates + account.unexpected > 0);
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
  // results, so a round's peak holds one of the two, not both.
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
  st.progress.timeline = std::move(timeline);
}

std::vector<pending_retry> restore_round(coordinator_state& st,
                                         saved_round& saved,
                                         caf::actor_clock::time_point now) {
  std::vector<pending_retry> retries;
  st.lifecycle = std::move(saved.lifecycle);
  auto& m = saved.meta;
  if (m.round == 0)
    return retries;
  st.meta.round = m.round;
  st.totals.rounds = m.round;
  if (m.current == phase::idle || !saved.catalog.ptr)
    return retries;
  auto unix_now = unix_ms_now();
  auto clock_at = [&](int64_t unix_ms) {
    return now - std::chrono::milliseconds(unix_now - unix_ms);
  };
  st.meta = m;
  st.progress.started_at = clock_at(m.started_unix_ms);
  // What happened before the restart is not kept: the chart resumes now.
  st.progress.timeline.reset(st.progress.started_at);
  st.progress.delivered_at = clock_at(m.delivered_unix_ms);
  st.progress.stop_at = clock_at(m.stop_unix_ms);
  st.progress.collected_at = clock_at(m.collected_unix_ms);
  st.progress.last_progress_log = now;
  st.progress.catalog = saved.catalog;
  st.progress.completeness = round_completeness{st.progress.catalog.ptr};
  st.progress.pods = std::move(saved.pods);
  uint32_t in_flight = 0;
  uint32_t refetch = 0;
  for (uint32_t index = 0; index < st.progress.pods.size(); ++index) {
    auto& pod = st.progress.pods[index];
    pod.awaiting_retry = false;
    pod.listed_as_problem = false;
    pod.listed_in_report = false;
    pod.collected_once = false;
    pod.dirty = false;
    auto flight = index < saved.in_flight.size() ? saved.in_flight[index]
                                                 : in_flight_stage::none;
    if (flight != in_flight_stage::none) {
      // Its row was last written before the call went out: the call's row
      // has the attempt.
      bool delivery = flight == in_flight_stage::delivery;
      auto& attempts = delivery ? pod.delivery_attempts
                                : pod.collection_attempts;
      if (index < saved.in_flight_attempt.size())
        attempts = std::max(attempts, saved.in_flight_attempt[index]);
      pod.state = delivery ? pod_state::delivering : pod_state::collecting;
      pod.retry_at_unix_ms = 0;
    }
    ++st.progress.counts[slot(pod.state)];
    if (pod.tests > 0)
      ++st.progress.pods_with_tests;
    if (flight != in_flight_stage::none) {
      ++in_flight;
      // Ended here, so that a later restart does not count it again.
      pod_outcome cut;
      cut.status = call_status::cancelled;
      cut.request_sent = flight == in_flight_stage::delivery;
      cut.detail = "the proxy stopped while this call was out";
      if (flight == in_flight_stage::delivery)
        st.journal.call_ended(st.meta.round, index, stage::delivery,
                              pod.delivery_attempts, cut);
      else
        st.journal.call_ended(st.meta.round, index, stage::collection,
                              pod.collection_attempts, cut);
    }
    if (pod.state == pod_state::delivering) {
      // Its /check may have reached it: never again.
      if (pod.delivery_error.empty())
        pod.delivery_error = "the proxy stopped while its /check was out";
      else
        pod.delivery_error += "; the proxy stopped while its next /check "
                              "was out";
      end_delivery(st, index, pod_state::unconfirmed);
      pod.delivered_after = caf::timespan{0};
    } else if (pod.delivery_outcome == pod_state::delivered) {
      ++st.progress.delivered;
    } else if (pod.delivery_outcome == pod_state::unconfirmed) {
      ++st.progress.unconfirmed;
      note_problem(st, index);
    } else if (pod.delivery_outcome == pod_state::failed) {
      ++st.progress.delivery_failed;
      note_problem(st, index);
    }
    // A /stop came while its /check was out (an early /stop) or before the
    // store had the pods it stopped: collect them, as /stop and
    // settle_delivery would have.
    if (st.meta.stop_requested && pod.state == pod_state::queued) {
      // Stored before the /stop reached it: /stop ends its delivery.
      if (pod.delivery_error.empty())
        pod.delivery_error = "round stopped before delivery";
      end_delivery(st, index, pod_state::failed);
    }
    if (st.meta.stop_requested
        && (pod.state == pod_state::delivered
            || pod.state == pod_state::unconfirmed
            || pod.state == pod_state::failed)) {
      set_state(st, pod, pod_state::collect_queued);
      pod.retry_at_unix_ms = 0;
    }
    if (pod.state == pod_state::collecting) {
      set_state(st, pod, pod_state::collect_queued);
      pod.retry_at_unix_ms = 0;
    }
    if (pod.state == pod_state::collected) {
      if (index < saved.results_kept.size() && saved.results_kept[index]) {
        st.progress.results_bytes += pod.results.size();
        st.progress.results_entries += pod.results_entries;
        account_collected(st, index, saved.accounts[index]);
      } else {
        // Its body was not kept (a full store): ask for it again.
        set_state(st, pod, pod_state::collect_queued);
        ++refetch;
      }
    }
    if (pod.state == pod_state::collect_failed) {
      note_problem(st, index);
      if (pod.tests > 0)
        list_in_report(st, index);
    }
    if (pod.state == pod_state::queued
        || pod.state == pod_state::collect_queued) {
      if (pod.retry_at_unix_ms > 0) {
        pod.awaiting_retry = true;
        ++st.progress.in_backoff;
        retries.push_back(pending_retry{
          index, std::chrono::milliseconds(
                   std::max<int64_t>(0, pod.retry_at_unix_ms - unix_now))});
      } else {
        st.progress.ready.push_back(index);
      }
    }
  }
  if (st.meta.current == phase::collected && refetch > 0)
    st.meta.current = phase::collecting;
  spdlog::info("Resumed round {} (phase {}): {} delivered, {} unconfirmed, {} "
               "failed, {} collected, {} collect_failed, {} to deliver, {} to "
               "collect, {} calls were in flight, from {}",
               st.meta.round, to_string(st.meta.current), st.progress.delivered,
               st.progress.unconfirmed, st.progress.delivery_failed,
               st.progress.counts[slot(pod_state::collected)],
               st.progress.counts[slot(pod_state::collect_failed)],
               st.progress.counts[slot(pod_state::queued)],
               st.progress.counts[slot(pod_state::collect_queued)], in_flight,
               st.journal.health().substr(4));
  if (refetch > 0)
    spdlog::warn("Round {}: {} collected pods had no kept results and are "
                 "asked again",
                 st.meta.round, refetch);
  return retries;
}

} // namespace netpol
