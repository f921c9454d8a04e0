#include "actors/round_book.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace netpol {

size_t slot(pod_state x) {
  return static_cast<size_t>(x);
}

bool running(const coordinator_state& st) {
  return st.current == phase::delivering || st.current == phase::delivered
         || st.current == phase::collecting;
}

void touch(coordinator_state& st, pod_record& pod) {
  if (st.store && !pod.dirty) {
    pod.dirty = true;
    st.dirty.push_back(static_cast<uint32_t>(&pod - st.pods.data()));
  }
}

void set_state(coordinator_state& st, pod_record& pod, pod_state next) {
  set_state_untouched(st, pod, next);
  touch(st, pod);
}

void set_state_untouched(coordinator_state& st, pod_record& pod,
                         pod_state next) {
  --st.counts[slot(pod.state)];
  ++st.counts[slot(next)];
  pod.state = next;
}

round_meta make_meta(const coordinator_state& st) {
  round_meta m;
  m.round = st.round;
  m.current = st.current;
  m.stop_requested = st.stop_requested;
  m.digest = st.digest;
  m.started_unix_ms = st.started_unix_ms;
  m.delivered_unix_ms = st.delivered_unix_ms;
  m.stop_unix_ms = st.stop_unix_ms;
  m.collected_unix_ms = st.collected_unix_ms;
  m.calls = st.calls;
  m.retries = st.retries;
  return m;
}

lifecycle_meta make_lifecycle(const coordinator_state& st) {
  lifecycle_meta l;
  l.superseded.assign(st.superseded.begin(), st.superseded.end());
  l.rounds_superseded = st.rounds_superseded;
  l.initiates_refused = st.initiates_refused;
  l.has_refusal = st.has_refusal;
  l.refusal_pending = st.refusal_pending;
  l.last_refusal = st.last_refusal;
  return l;
}

void persist(coordinator_state& st) {
  if (!st.store)
    return;
  st.commit_due = false;
  st.delivery_ended = false;
  for (auto index : st.dirty)
    if (index < st.pods.size()) {
      auto& pod = st.pods[index];
      pod.dirty = false;
      st.store->save_pod(st.round, index, pod);
    }
  st.dirty.clear();
  if (st.round > 0)
    st.store->save_round(make_meta(st));
  st.store->commit();
}

void commit_before_answer(coordinator_state& st) {
  if (st.commit_due)
    persist(st);
}

void queue_collection(coordinator_state& st, uint32_t index) {
  set_state(st, st.pods[index], pod_state::collect_queued);
  st.ready.push_back(index);
}

void note_problem(coordinator_state& st, uint32_t index) {
  auto& pod = st.pods[index];
  if (pod.listed_as_problem)
    return;
  pod.listed_as_problem = true;
  st.problem_pods.push_back(index);
}

void list_in_report(coordinator_state& st, uint32_t index) {
  auto& pod = st.pods[index];
  if (pod.listed_in_report)
    return;
  pod.listed_in_report = true;
  st.report_pods.push_back(index);
}

void account_collected(coordinator_state& st, uint32_t index,
                       const pod_completeness& account) {
  auto& pod = st.pods[index];
  if (st.catalog.ptr == nullptr || pod.collected_once)
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
  st.completeness.add_pod(index, account, delivered);
  pod.reported = account.reported;
  pod.missing = delivered ? account.missing : 0;
  pod.duplicates = account.duplicates;
  pod.unexpected = account.unexpected;
  if (pod.tests > 0 && pod.reported == pod.tests)
    ++st.pods_complete;
  if (pod.missing > 0) {
    auto& names = st.missing_netpols[index];
    for (auto& tally : account.netpols)
      if (tally.reported < tally.expected)
        names.push_back(tally.netpol);
  }
  if (pod.reported < pod.tests || pod.duplicates > 0 || pod.unexpected > 0)
    list_in_report(st, index);
}

void end_delivery(coordinator_state& st, uint32_t index, pod_state outcome) {
  auto& pod = st.pods[index];
  if (outcome != pod_state::delivered)
    note_problem(st, index);
  set_state(st, pod, outcome);
  pod.delivery_outcome = outcome;
  // The list is never sent again: freeing it now leaves room for the
  // results, so a round's peak holds one of the two, not both.
  pod.connections = {};
  switch (outcome) {
    case pod_state::delivered:
      ++st.delivered;
      break;
    case pod_state::unconfirmed:
      ++st.unconfirmed;
      break;
    default:
      ++st.delivery_failed;
  }
}

void undo_call(coordinator_state& st, uint32_t index, stage kind,
               bool request_sent) {
  auto& pod = st.pods[index];
  auto& attempts = kind == stage::delivery ? pod.delivery_attempts
                                           : pod.collection_attempts;
  if (!request_sent) {
    if (attempts > 0)
      --attempts;
    if (attempts > 0 && st.retries > 0)
      --st.retries;
    if (st.calls > 0)
      --st.calls;
  }
  set_state(st, pod,
            kind == stage::delivery ? pod_state::queued
                                    : pod_state::collect_queued);
  pod.retry_at_unix_ms = 0;
  st.ready.push_back(index);
}

void clear_round(coordinator_state& st) {
  st.current = phase::idle;
  st.stop_requested = false;
  st.pods.clear();
  st.ready.clear();
  st.problem_pods.clear();
  st.counts.fill(0);
  st.in_backoff = 0;
  st.delivered = st.unconfirmed = st.delivery_failed = 0;
  st.calls = st.retries = st.results_bytes = st.results_entries = 0;
  st.digest = 0;
  st.catalog = {};
  st.completeness = {};
  st.pods_with_tests = st.pods_complete = 0;
  st.report_pods.clear();
  st.missing_netpols.clear();
}

std::vector<pending_retry> restore_round(coordinator_state& st,
                                         saved_round& saved,
                                         caf::actor_clock::time_point now) {
  std::vector<pending_retry> retries;
  auto& l = saved.lifecycle;
  st.superseded.assign(l.superseded.begin(), l.superseded.end());
  st.rounds_superseded = l.rounds_superseded;
  st.initiates_refused = l.initiates_refused;
  st.has_refusal = l.has_refusal;
  st.refusal_pending = l.refusal_pending;
  st.last_refusal = l.last_refusal;
  auto& m = saved.meta;
  if (m.round == 0)
    return retries;
  st.round = m.round;
  st.totals.rounds = m.round;
  if (m.current == phase::idle || !saved.catalog.ptr)
    return retries;
  auto unix_now = unix_ms_now();
  auto clock_at = [&](int64_t unix_ms) {
    return now - std::chrono::milliseconds(unix_now - unix_ms);
  };
  st.current = m.current;
  st.stop_requested = m.stop_requested;
  st.digest = m.digest;
  st.started_unix_ms = m.started_unix_ms;
  st.delivered_unix_ms = m.delivered_unix_ms;
  st.stop_unix_ms = m.stop_unix_ms;
  st.collected_unix_ms = m.collected_unix_ms;
  st.started_at = clock_at(m.started_unix_ms);
  // What happened before the restart is not kept: the chart resumes now.
  st.timeline.reset(st.started_at);
  st.delivered_at = clock_at(m.delivered_unix_ms);
  st.stop_at = clock_at(m.stop_unix_ms);
  st.collected_at = clock_at(m.collected_unix_ms);
  st.last_progress_log = now;
  st.calls = m.calls;
  st.retries = m.retries;
  st.catalog = saved.catalog;
  st.completeness = round_completeness{st.catalog.ptr};
  st.pods = std::move(saved.pods);
  uint32_t in_flight = 0;
  uint32_t refetch = 0;
  for (uint32_t index = 0; index < st.pods.size(); ++index) {
    auto& pod = st.pods[index];
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
    ++st.counts[slot(pod.state)];
    if (pod.tests > 0)
      ++st.pods_with_tests;
    if (flight != in_flight_stage::none) {
      ++in_flight;
      // Ended here, so that a later restart does not count it again.
      pod_outcome cut;
      cut.status = call_status::cancelled;
      cut.request_sent = flight == in_flight_stage::delivery;
      cut.detail = "the proxy stopped while this call was out";
      if (flight == in_flight_stage::delivery)
        st.store->call_ended(st.round, index, stage::delivery,
                             pod.delivery_attempts, cut);
      else
        st.store->call_ended(st.round, index, stage::collection,
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
      ++st.delivered;
    } else if (pod.delivery_outcome == pod_state::unconfirmed) {
      ++st.unconfirmed;
      note_problem(st, index);
    } else if (pod.delivery_outcome == pod_state::failed) {
      ++st.delivery_failed;
      note_problem(st, index);
    }
    // A /stop came while its /check was out (an early /stop) or before the
    // store had the pods it stopped: collect them, as /stop and
    // settle_delivery would have.
    if (st.stop_requested && pod.state == pod_state::queued) {
      // Stored before the /stop reached it: /stop ends its delivery.
      if (pod.delivery_error.empty())
        pod.delivery_error = "round stopped before delivery";
      end_delivery(st, index, pod_state::failed);
    }
    if (st.stop_requested
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
        st.results_bytes += pod.results.size();
        st.results_entries += pod.results_entries;
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
    if (pod.state == pod_state::queued || pod.state == pod_state::collect_queued) {
      if (pod.retry_at_unix_ms > 0) {
        pod.awaiting_retry = true;
        ++st.in_backoff;
        retries.push_back(pending_retry{
          index, std::chrono::milliseconds(
                   std::max<int64_t>(0, pod.retry_at_unix_ms - unix_now))});
      } else {
        st.ready.push_back(index);
      }
    }
  }
  if (st.current == phase::collected && refetch > 0)
    st.current = phase::collecting;
  spdlog::info("Resumed round {} (phase {}): {} delivered, {} unconfirmed, {} "
               "failed, {} collected, {} collect_failed, {} to deliver, {} to "
               "collect, {} calls were in flight, from {}",
               st.round, to_string(st.current), st.delivered, st.unconfirmed,
               st.delivery_failed, st.counts[slot(pod_state::collected)],
               st.counts[slot(pod_state::collect_failed)],
               st.counts[slot(pod_state::queued)],
               st.counts[slot(pod_state::collect_queued)], in_flight,
               st.store->health().substr(4));
  if (refetch > 0)
    spdlog::warn("Round {}: {} collected pods had no kept results and are "
                 "asked again",
                 st.round, refetch);
  return retries;
}

} // namespace netpol
