#include "actors/round_restore.hpp"

#include "actors/round_book.hpp"
#include "messages/duration.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace netpol {

std::vector<pending_retry> restore_round(coordinator_state& st,
                                         saved_round& saved,
                                         caf::actor_clock::time_point now) {
  std::vector<pending_retry> retries;
  st.lifecycle = std::move(saved.lifecycle);
  auto unix_now = unix_ms_now();
  if (!restore_meta(st, saved, now, unix_now))
    return retries;
  st.progress.pods = std::move(saved.pods);
  uint32_t in_flight = 0;
  uint32_t refetch = 0;
  for (uint32_t index = 0; index < st.progress.pods.size(); ++index)
    restore_pod(st, saved, index, unix_now, retries, in_flight, refetch);
  restore_samples(st, saved);
  if (st.meta.current == phase::collected && refetch > 0)
    st.meta.current = phase::collecting;
  log_resumed(st, in_flight, refetch);
  return retries;
}

bool restore_meta(coordinator_state& st, const saved_round& saved,
                  caf::actor_clock::time_point now, int64_t unix_now) {
  auto& m = saved.meta;
  if (m.round == 0)
    return false;
  st.meta.round = m.round;
  st.totals.rounds = m.round;
  // /metrics goes on from the stored round's calls (earlier rounds' are not
  // kept): docs/operations.md, Metrics.
  auto& calls = saved.call_totals;
  st.totals.calls = calls.calls;
  st.totals.retries = calls.retries;
  st.totals.latency_buckets = calls.latency_buckets;
  st.totals.latency_sum = calls.latency_sum;
  if (m.current == phase::idle || !saved.catalog.ptr)
    return false;
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
  st.progress.catalog = saved.catalog;
  st.progress.completeness = round_completeness{st.progress.catalog.ptr};
  return true;
}

void restore_pod(coordinator_state& st, const saved_round& saved,
                 uint32_t index, int64_t unix_now,
                 std::vector<pending_retry>& retries, uint32_t& in_flight,
                 uint32_t& refetch) {
  auto& pod = st.progress.pods[index];
  pod.awaiting_retry = false;
  pod.listed_as_problem = false;
  pod.listed_in_report = false;
  pod.collected_once = false;
  pod.dirty = false;
  if (take_up_cut_call(st, saved, index) != in_flight_stage::none)
    ++in_flight;
  ++st.progress.counts[slot(pod.state)];
  if (pod.tests > 0)
    ++st.progress.pods_with_tests;
  if (pod.state == pod_state::delivering)
    cut_check(st, index);
  else
    recount_delivery(st, index);
  if (st.meta.stop_requested)
    apply_saved_stop(st, index);
  if (pod.state == pod_state::collecting)
    ask_results_again(st, index);
  if (pod.state == pod_state::collected && !restore_collected(st, saved, index))
    ++refetch;
  if (pod.state == pod_state::collect_failed)
    relist_collect_failed(st, saved, index);
  if (pod.state == pod_state::queued
      || pod.state == pod_state::collect_queued)
    queue_or_wait(st, index, unix_now, retries);
}

in_flight_stage take_up_cut_call(coordinator_state& st,
                                 const saved_round& saved, uint32_t index) {
  auto& pod = st.progress.pods[index];
  auto flight = index < saved.in_flight.size() ? saved.in_flight[index]
                                               : in_flight_stage::none;
  if (flight == in_flight_stage::none)
    return flight;
  // Its row was last written before the call went out: the call's row has
  // the attempt.
  bool delivery = flight == in_flight_stage::delivery;
  auto& attempts = delivery ? pod.delivery_attempts : pod.collection_attempts;
  if (index < saved.in_flight_attempt.size())
    attempts = std::max(attempts, saved.in_flight_attempt[index]);
  pod.state = delivery ? pod_state::delivering : pod_state::collecting;
  pod.retry_at_unix_ms = 0;
  // Ended here, so that a later restart does not count it again.
  pod_outcome cut;
  cut.status = call_status::cancelled;
  cut.request_sent = delivery;
  cut.detail = "the proxy stopped while this call was out";
  st.journal.call_ended(st.meta.round, index,
                        delivery ? stage::delivery : stage::collection,
                        attempts, cut);
  return flight;
}

void cut_check(coordinator_state& st, uint32_t index) {
  auto& pod = st.progress.pods[index];
  // Its /check may have reached it: never again.
  if (pod.delivery_error.empty())
    pod.delivery_error = "the proxy stopped while its /check was out";
  else
    pod.delivery_error += "; the proxy stopped while its next /check "
                          "was out";
  end_delivery(st, index, pod_state::unconfirmed);
  pod.delivered_after = caf::timespan{0};
}

void recount_delivery(coordinator_state& st, uint32_t index) {
  auto& pod = st.progress.pods[index];
  if (pod.delivery_outcome == pod_state::delivered) {
    ++st.progress.delivered;
  } else if (pod.delivery_outcome == pod_state::unconfirmed) {
    ++st.progress.unconfirmed;
    note_problem(st, index);
  } else if (pod.delivery_outcome == pod_state::failed) {
    ++st.progress.delivery_failed;
    note_problem(st, index);
  }
}

void apply_saved_stop(coordinator_state& st, uint32_t index) {
  auto& pod = st.progress.pods[index];
  if (pod.state == pod_state::queued) {
    // Stored before the /stop reached it: /stop ends its delivery.
    if (pod.delivery_error.empty())
      pod.delivery_error = "round stopped before delivery";
    end_delivery(st, index, pod_state::failed);
  }
  if (pod.state == pod_state::delivered
      || pod.state == pod_state::unconfirmed
      || pod.state == pod_state::failed) {
    set_state(st, pod, pod_state::collect_queued);
    pod.retry_at_unix_ms = 0;
  }
}

void ask_results_again(coordinator_state& st, uint32_t index) {
  auto& pod = st.progress.pods[index];
  set_state(st, pod, pod_state::collect_queued);
  pod.retry_at_unix_ms = 0;
}

bool count_kept_results(coordinator_state& st, const saved_round& saved,
                        uint32_t index) {
  if (index >= saved.results_kept.size() || !saved.results_kept[index])
    return false;
  auto& pod = st.progress.pods[index];
  st.progress.results_bytes += pod.results.size();
  st.progress.results_entries += pod.results_entries;
  account_collected(st, index, saved.accounts[index]);
  if (!pod.served_sample.empty()) {
    note_problem(st, index); // as settle_collection lists it
    ++st.progress.samples.served;
  }
  return true;
}

/// A pod whose served sample was not kept is served nothing: it is not
/// said to be.
void forget_served_sample(pod_record& pod) {
  pod.served_sample.clear();
  pod.served_sample_taken_unix_ms = 0;
}

bool restore_collected(coordinator_state& st, const saved_round& saved,
                       uint32_t index) {
  if (count_kept_results(st, saved, index))
    return true;
  // Its body was not kept (a full store): ask for it again.
  auto& pod = st.progress.pods[index];
  forget_served_sample(pod);
  set_state(st, pod, pod_state::collect_queued);
  return false;
}

void relist_collect_failed(coordinator_state& st, const saved_round& saved,
                           uint32_t index) {
  auto& pod = st.progress.pods[index];
  // Served its sample: counted as collected pods are.
  if (!pod.served_sample.empty() && count_kept_results(st, saved, index))
    return;
  forget_served_sample(pod);
  note_problem(st, index);
  if (pod.tests > 0)
    list_in_report(st, index);
}

void restore_samples(coordinator_state& st, const saved_round& saved) {
  auto& samples = st.progress.samples;
  for (auto& row : saved.samples) {
    if (row.pod >= st.progress.pods.size())
      continue;
    auto state = st.progress.pods[row.pod].state;
    if (state == pod_state::collected || state == pod_state::collect_failed)
      continue; // collection had the last word
    std::string body;
    if (!decompress_blob(row.compressed.view(), body))
      continue; // damaged at rest: as if never taken
    pod_sample sample;
    sample.body = shared_bytes{std::move(body)};
    sample.entries = row.entries;
    sample.taken_unix_ms = row.taken_unix_ms;
    sample.not_extending = row.not_extending;
    sample.restart_seen_unix_ms = row.restart_seen_unix_ms;
    if (sample.not_extending > 0)
      ++samples.restarted;
    samples.pods.insert_or_assign(row.pod, std::move(sample));
  }
}

void queue_or_wait(coordinator_state& st, uint32_t index, int64_t unix_now,
                   std::vector<pending_retry>& retries) {
  auto& pod = st.progress.pods[index];
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

void log_resumed(const coordinator_state& st, uint32_t in_flight,
                 uint32_t refetch) {
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
}

} // namespace netpol
