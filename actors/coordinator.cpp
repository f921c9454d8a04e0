#include "actors/coordinator.hpp"

#include "actors/coordinator_calls.hpp"
#include "actors/coordinator_sampling.hpp"
#include "actors/round_book.hpp"
#include "actors/round_restore.hpp"
#include "actors/round_views.hpp"
#include "messages/error.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace netpol {

namespace {

using self_pointer = coordinator_pointer;

/// Ends the running round before its collection finished: its pending
/// calls are dropped with it, calls in flight will be discarded.
void supersede(self_pointer self, const std::string& by) {
  auto& st = self->state;
  round_summary summary;
  summary.round = st.meta.round;
  summary.ended_in = st.meta.current;
  summary.pods = static_cast<uint32_t>(st.progress.pods.size());
  summary.delivered = st.progress.delivered;
  summary.unconfirmed = st.progress.unconfirmed;
  summary.delivery_failed = st.progress.delivery_failed;
  summary.collected = st.progress.counts[slot(pod_state::collected)];
  summary.collect_failed = st.progress.counts[slot(pod_state::collect_failed)];
  summary.ended_unix_ms = unix_ms_now();
  summary.by = by;
  for (auto& [id, call] : st.pool.busy)
    if (call.round == st.meta.round && call.stale_ip.empty()
        && call.pod < st.progress.pods.size()) {
      call.stale_ip = st.progress.pods[call.pod].ip;
      hold_address(st, call.stale_ip);
      ++summary.in_flight;
    }
  spdlog::warn("Round {} superseded by {} while {}: {} of {} pods delivered, "
               "{} unconfirmed, {} failed, {} collected; {} calls in flight "
               "are discarded",
               st.meta.round, by, to_string(st.meta.current),
               st.progress.delivered, st.progress.pods.size(),
               st.progress.unconfirmed, st.progress.delivery_failed,
               summary.collected, summary.in_flight);
  st.lifecycle.superseded.push_back(std::move(summary));
  if (st.lifecycle.superseded.size() > max_remembered_rounds)
    st.lifecycle.superseded.erase(st.lifecycle.superseded.begin());
  ++st.lifecycle.rounds_superseded;
  stop_sampling(self);
  clear_round(st);
  st.journal.save_lifecycle(st.lifecycle);
}

void start_round(self_pointer self, round_plan& plan) {
  auto& st = self->state;
  clear_round(st);
  ++st.meta.round;
  ++st.totals.rounds;
  st.meta.current = phase::delivering;
  st.lifecycle.refusal_pending = false;
  st.meta.digest = plan.digest;
  st.progress.catalog = plan.catalog;
  if (st.progress.catalog.ptr)
    st.progress.completeness = round_completeness{st.progress.catalog.ptr};
  st.progress.pods.reserve(plan.pods.size());
  uint64_t connections = 0;
  uint64_t tests = 0;
  for (auto& planned : plan.pods) {
    pod_record pod;
    pod.ip = std::move(planned.ip);
    pod.connections = std::move(planned.connections);
    pod.connection_count = planned.connection_count;
    pod.expected = std::move(planned.expected);
    pod.tests = planned.tests;
    pod.canonical = planned.canonical;
    connections += pod.connection_count;
    tests += pod.tests;
    if (pod.tests > 0)
      ++st.progress.pods_with_tests;
    st.progress.ready.push_back(static_cast<uint32_t>(st.progress.pods.size()));
    st.progress.pods.push_back(std::move(pod));
  }
  st.progress.counts[slot(pod_state::queued)]
    = static_cast<uint32_t>(st.progress.pods.size());
  st.progress.started_at = self->clock().now();
  st.progress.timeline.reset(st.progress.started_at);
  st.meta.started_unix_ms = unix_ms_now();
  spdlog::info("Number of connections got from kube-burner {}",
               st.progress.pods.size());
  spdlog::info("Got connections from kube-burner, sending them to {} pods",
               st.progress.pods.size());
  spdlog::info("Round {}: {} pods, {} connections, {} connection tests, {} "
               "workers, attempts per pod and stage: {}",
               st.meta.round, st.progress.pods.size(), connections, tests,
               st.settings.workers, st.settings.max_attempts());
  static const round_catalog no_names;
  st.journal.begin_round(
    st.meta, st.progress.catalog.ptr ? *st.progress.catalog.ptr : no_names,
    st.progress.pods);
  st.journal.save_lifecycle(st.lifecycle);
  dispatch(self);
  update_phase(self);
  start_progress_timer(self);
  commit(st);
}

/// A refused /initiate: said loudly, and remembered, so kube-burner's next
/// poll does not read an old or empty round as its own.
void note_refusal(self_pointer self, uint16_t http_status,
                  std::string reason) {
  auto& st = self->state;
  ++st.lifecycle.initiates_refused;
  st.lifecycle.has_refusal = true;
  st.lifecycle.refusal_pending = true;
  st.lifecycle.last_refusal = refusal_note{http_status, reason, unix_ms_now()};
  spdlog::error("Refused /initiate (HTTP {}): {}", http_status, reason);
  if (running(st))
    supersede(self, "a refused /initiate");
  st.journal.save_lifecycle(st.lifecycle);
  commit(st);
  spdlog::error("Until a valid /initiate arrives, status polls answer that "
                "the last one was refused (kube-burner stops waiting) and "
                "/stop answers 409");
}

caf::result<round_status> stop_round(self_pointer self) {
  auto& st = self->state;
  if (st.lifecycle.refusal_pending && !running(st))
    return make_error(errc::initiate_refused,
                      "the last /initiate was refused ("
                        + st.lifecycle.last_refusal.reason
                        + "); see the proxy's log. A valid /initiate starts "
                          "a round");
  if (st.meta.current == phase::idle)
    return make_error(errc::no_round,
                      "no round to stop: POST /initiate starts one");
  if (st.meta.stop_requested) {
    commit_if_due(st);
    return make_round_status(st);
  }
  st.meta.stop_requested = true;
  stop_sampling(self); // collection asks every pod now
  st.progress.stop_at = self->clock().now();
  st.meta.stop_unix_ms = unix_ms_now();
  if (st.meta.current == phase::delivering) {
    // Delivery ends here, finished or not.
    st.progress.delivered_at = st.progress.stop_at;
    st.meta.delivered_unix_ms = st.meta.stop_unix_ms;
  }
  st.meta.current = phase::collecting;
  spdlog::info("Stop received, fetching results from {} pods",
               st.progress.pods.size());
  // Pods not delivered yet won't be: the measurement they were for is over.
  st.progress.ready.clear();
  for (uint32_t index = 0; index < st.progress.pods.size(); ++index) {
    auto& pod = st.progress.pods[index];
    if (pod.state == pod_state::queued) {
      if (pod.awaiting_retry) {
        pod.awaiting_retry = false;
        --st.progress.in_backoff;
      }
      if (pod.delivery_error.empty())
        pod.delivery_error = "round stopped before delivery";
      else
        pod.delivery_error += "; round stopped before the next attempt";
      end_delivery(st, index, pod_state::failed);
    }
    if (is_delivery_terminal(pod.state))
      queue_collection(st, index);
  }
  dispatch(self);
  update_phase(self);
  start_progress_timer(self);
  commit(st); // the stop itself, whatever else changed
  return make_round_status(st);
}

} // namespace

coordinator_actor::behavior_type
coordinator(coordinator_actor::stateful_pointer<coordinator_state> self,
            proxy_settings settings, worker_factory make_worker) {
  return persistent_coordinator(self, std::move(settings),
                                std::move(make_worker), nullptr,
                                "off: no store given");
}

coordinator_actor::behavior_type
persistent_coordinator(coordinator_actor::stateful_pointer<coordinator_state> self,
                       proxy_settings settings, worker_factory make_worker,
                       round_store_ptr store, std::string persistence) {
  auto& st = self->state;
  st.settings = settings;
  st.make_worker = std::move(make_worker);
  st.journal = round_journal{std::move(store), std::move(persistence)};
  for (uint32_t i = 0; i < settings.workers; ++i)
    add_worker(self);
  // Without a store, nothing to resume: the round is 0 and idle.
  auto saved = st.journal.load();
  for (auto& retry : restore_round(st, saved, self->clock().now()))
    self->delayed_send(self, retry.after, retry_atom_v, st.meta.round,
                       retry.pod);
  update_phase(self);
  commit(st); // what the restore changed, before anything else
  dispatch(self);
  start_progress_timer(self); // a resumed phase goes on being reported
  start_sweep(self);          // ... and a resumed job window sampled
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    auto id = msg.source.id();
    if (st.sampler && msg.source == st.sampler.address())
      return sampler_lost(self, msg.reason);
    if (st.pool.busy.count(id) > 0)
      return; // its request's error settles the call (worker_lost)
    for (auto i = st.pool.idle.begin(); i != st.pool.idle.end(); ++i) {
      if ((*i)->id() == id) {
        st.pool.idle.erase(i);
        ++st.pool.restarts;
        spdlog::warn("Idle worker died ({}); starting a replacement",
                     self->system().render(msg.reason));
        add_worker(self);
        dispatch(self);
        return;
      }
    }
  });
  // Workers are monitored, not linked: take them down with us explicitly.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& worker : self->state.pool.idle)
      self->send_exit(worker, msg.reason);
    for (auto& [id, call] : self->state.pool.busy)
      self->send_exit(call.handle, msg.reason);
    if (self->state.sampler)
      self->send_exit(self->state.sampler, msg.reason);
    self->quit(msg.reason);
  });
  return {
    [self](initiate_atom, round_plan& plan) -> caf::result<round_status> {
      auto& st = self->state;
      if (running(st)) {
        if (plan.digest == st.meta.digest
            && plan.pods.size() == st.progress.pods.size()) {
          // A retried POST: nothing is sent again.
          spdlog::info("Round {}: the same /initiate again while {}; "
                       "nothing changes",
                       st.meta.round, to_string(st.meta.current));
          commit_if_due(st);
          return make_round_status(st);
        }
        supersede(self, "round " + std::to_string(st.meta.round + 1));
      }
      start_round(self, plan);
      return make_round_status(st);
    },
    [self](refused_atom, uint16_t http_status, std::string& reason) {
      note_refusal(self, http_status, std::move(reason));
    },
    [self](stop_atom) -> caf::result<round_status> {
      return stop_round(self);
    },
    [self](poll_atom) -> caf::result<round_status> {
      commit_if_due(self->state);
      return make_round_status(self->state);
    },
    [self](status_atom, bool all_pods) -> caf::result<status_report> {
      commit_if_due(self->state);
      return make_status_report(self->state, self->clock().now(), all_pods);
    },
    [self](report_atom, bool all_pods,
           uint32_t max_netpols) -> caf::result<completeness_report> {
      auto& st = self->state;
      commit_if_due(st);
      if (has_sampled_report(st))
        return make_sampled_report(st, all_pods, max_netpols);
      if (!st.meta.stop_requested || st.progress.catalog.ptr == nullptr)
        return make_error(errc::results_not_ready,
                          std::string{"completeness is known once "
                                      "collection started (/stop), or "
                                      "during the job once a sweep of "
                                      "--sample-interval ended; the "
                                      "round is "}
                            + to_string(st.meta.current));
      return make_completeness_report(st, all_pods, max_netpols);
    },
    [self](results_atom) -> caf::result<results_snapshot> {
      auto& st = self->state;
      commit_if_due(st);
      if (st.meta.current != phase::collected)
        return make_error(errc::results_not_ready,
                          std::string{"results are ready once collection "
                                      "finished; the round is "}
                            + to_string(st.meta.current));
      results_snapshot result;
      result.round = st.meta.round;
      // A pod lost by /stop is served the sample taken during the job.
      for (auto& pod : st.progress.pods)
        if (pod.state == pod_state::collected || !pod.served_sample.empty())
          result.pods.push_back(pod_results{pod.ip, pod.results});
      return result;
    },
    [self](metrics_atom) -> caf::result<proxy_metrics> {
      commit_if_due(self->state);
      return make_metrics(self->state, self->clock().now());
    },
    [self](drain_atom) -> caf::result<uint32_t> {
      auto& st = self->state;
      st.drain.draining = true;
      stop_sampling(self);
      auto waiter = self->make_response_promise<uint32_t>();
      st.drain.waiters.push_back(waiter);
      dispatch(self); // answers at once when no call is out
      return waiter;
    },
    [self](dispatch_atom) {
      self->state.dispatch_pending = false;
      dispatch(self);
    },
    [self](commit_atom) {
      commit_if_due(self->state); // unless an answer did already
    },
    [self](progress_atom, uint64_t timer) {
      progress_timer_fired(self, timer);
    },
    [self](sample_atom, uint64_t round, uint32_t index, pod_outcome& out) {
      take_sample(self, round, index, out);
    },
    [self](confirmed_atom, uint64_t round, uint32_t index, pod_outcome& out) {
      take_confirmation(self, round, index, out);
    },
    [self](resent_atom, uint64_t round, uint32_t index, std::string& ip,
           pod_outcome& out) {
      take_resend(self, round, index, ip, out);
    },
    [self](swept_atom, uint64_t round, uint32_t answered) {
      sweep_ended(self, round, answered);
    },
    [self](sweep_atom, uint64_t round) {
      if (round == self->state.meta.round)
        start_sweep(self);
    },
    [self](retry_atom, uint64_t round, uint32_t index) {
      auto& st = self->state;
      if (round != st.meta.round || index >= st.progress.pods.size()
          || !st.progress.pods[index].awaiting_retry)
        return; // the round moved on (stopped or restarted) meanwhile
      st.progress.pods[index].awaiting_retry = false;
      --st.progress.in_backoff;
      st.progress.ready.push_back(index);
      dispatch(self);
    },
  };
}

} // namespace netpol
