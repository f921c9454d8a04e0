#include "actors/coordinator.hpp"

#include "actors/coordinator_calls.hpp"
#include "actors/round_book.hpp"
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
  summary.round = st.round;
  summary.ended_in = st.current;
  summary.pods = static_cast<uint32_t>(st.pods.size());
  summary.delivered = st.delivered;
  summary.unconfirmed = st.unconfirmed;
  summary.delivery_failed = st.delivery_failed;
  summary.collected = st.counts[slot(pod_state::collected)];
  summary.collect_failed = st.counts[slot(pod_state::collect_failed)];
  summary.ended_unix_ms = unix_ms_now();
  summary.by = by;
  for (auto& [id, call] : st.busy)
    if (call.round == st.round && call.stale_ip.empty()
        && call.pod < st.pods.size()) {
      call.stale_ip = st.pods[call.pod].ip;
      ++st.stale_in_flight[call.stale_ip];
      ++summary.in_flight;
    }
  spdlog::warn("Round {} superseded by {} while {}: {} of {} pods delivered, "
               "{} unconfirmed, {} failed, {} collected; {} calls in flight "
               "are discarded",
               st.round, by, to_string(st.current), st.delivered,
               st.pods.size(), st.unconfirmed, st.delivery_failed,
               summary.collected, summary.in_flight);
  st.superseded.push_back(std::move(summary));
  if (st.superseded.size() > max_remembered_rounds)
    st.superseded.pop_front();
  ++st.rounds_superseded;
  clear_round(st);
  if (st.store)
    st.store->save_lifecycle(make_lifecycle(st));
}

void start_round(self_pointer self, round_plan& plan) {
  auto& st = self->state;
  clear_round(st);
  ++st.round;
  ++st.totals.rounds;
  st.current = phase::delivering;
  st.refusal_pending = false;
  st.digest = plan.digest;
  st.catalog = plan.catalog;
  if (st.catalog.ptr)
    st.completeness = round_completeness{st.catalog.ptr};
  st.pods.reserve(plan.pods.size());
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
      ++st.pods_with_tests;
    st.ready.push_back(static_cast<uint32_t>(st.pods.size()));
    st.pods.push_back(std::move(pod));
  }
  st.counts[slot(pod_state::queued)] = static_cast<uint32_t>(st.pods.size());
  st.started_at = self->clock().now();
  st.timeline.reset(st.started_at);
  st.last_progress_log = st.started_at;
  st.started_unix_ms = unix_ms_now();
  spdlog::info("Number of connections got from kube-burner {}",
               st.pods.size());
  spdlog::info("Got connections from kube-burner, sending them to {} pods",
               st.pods.size());
  spdlog::info("Round {}: {} pods, {} connections, {} connection tests, {} "
               "workers, attempts per pod and stage: {}",
               st.round, st.pods.size(), connections, tests,
               st.settings.workers, st.settings.max_attempts());
  if (st.store) {
    static const round_catalog no_names;
    st.store->begin_round(make_meta(st),
                          st.catalog.ptr ? *st.catalog.ptr : no_names,
                          st.pods);
    st.store->save_lifecycle(make_lifecycle(st));
  }
  dispatch(self);
  update_phase(self);
  persist(st);
}

/// A refused /initiate: said loudly, and remembered, so kube-burner's next
/// poll does not read an old or empty round as its own.
void note_refusal(self_pointer self, uint16_t http_status,
                  std::string reason) {
  auto& st = self->state;
  ++st.initiates_refused;
  st.has_refusal = true;
  st.refusal_pending = true;
  st.last_refusal = refusal_note{http_status, reason, unix_ms_now()};
  spdlog::error("Refused /initiate (HTTP {}): {}", http_status, reason);
  if (running(st))
    supersede(self, "a refused /initiate");
  if (st.store) {
    st.store->save_lifecycle(make_lifecycle(st));
    persist(st);
  }
  spdlog::error("Until a valid /initiate arrives, status polls answer that "
                "the last one was refused (kube-burner stops waiting) and "
                "/stop answers 409");
}

caf::result<round_status> stop_round(self_pointer self) {
  auto& st = self->state;
  if (st.refusal_pending && !running(st))
    return make_error(errc::initiate_refused,
                      "the last /initiate was refused ("
                        + st.last_refusal.reason
                        + "); see the proxy's log. A valid /initiate starts "
                          "a round");
  if (st.current == phase::idle)
    return make_error(errc::no_round,
                      "no round to stop: POST /initiate starts one");
  if (st.stop_requested) {
    commit_before_answer(st);
    return make_round_status(st);
  }
  st.stop_requested = true;
  st.stop_at = self->clock().now();
  st.stop_unix_ms = unix_ms_now();
  if (st.current == phase::delivering) {
    st.delivered_at = st.stop_at; // delivery ends here, finished or not
    st.delivered_unix_ms = st.stop_unix_ms;
  }
  st.last_progress_log = st.stop_at;
  st.current = phase::collecting;
  spdlog::info("Stop received, fetching results from {} pods",
               st.pods.size());
  // Pods not delivered yet won't be: the measurement they were for is over.
  st.ready.clear();
  for (uint32_t index = 0; index < st.pods.size(); ++index) {
    auto& pod = st.pods[index];
    if (pod.state == pod_state::queued) {
      if (pod.awaiting_retry) {
        pod.awaiting_retry = false;
        --st.in_backoff;
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
  persist(st); // the stop itself, whatever else changed
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
  st.store = std::move(store);
  st.persistence = std::move(persistence);
  for (uint32_t i = 0; i < settings.workers; ++i)
    add_worker(self);
  if (st.store) {
    auto saved = st.store->load();
    for (auto& retry : restore_round(st, saved, self->clock().now()))
      self->delayed_send(self, retry.after, retry_atom_v, st.round,
                         retry.pod);
    update_phase(self);
    persist(st); // what the restore changed, before anything else
    dispatch(self);
  }
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    auto id = msg.source.id();
    if (st.busy.count(id) > 0)
      return; // its request's error settles the call (worker_lost)
    for (auto i = st.idle.begin(); i != st.idle.end(); ++i) {
      if ((*i)->id() == id) {
        st.idle.erase(i);
        ++st.worker_restarts;
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
    for (auto& worker : self->state.idle)
      self->send_exit(worker, msg.reason);
    for (auto& [id, call] : self->state.busy)
      self->send_exit(call.handle, msg.reason);
    self->quit(msg.reason);
  });
  return {
    [self](initiate_atom, round_plan& plan) -> caf::result<round_status> {
      auto& st = self->state;
      if (running(st)) {
        if (plan.digest == st.digest && plan.pods.size() == st.pods.size()) {
          // A retried POST: nothing is sent again.
          spdlog::info("Round {}: the same /initiate again while {}; "
                       "nothing changes",
                       st.round, to_string(st.current));
          commit_before_answer(st);
          return make_round_status(st);
        }
        supersede(self, "round " + std::to_string(st.round + 1));
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
      commit_before_answer(self->state);
      return make_round_status(self->state);
    },
    [self](status_atom, bool all_pods) -> caf::result<status_report> {
      commit_before_answer(self->state);
      return make_status_report(self->state, self->clock().now(), all_pods);
    },
    [self](report_atom, bool all_pods,
           uint32_t max_netpols) -> caf::result<completeness_report> {
      auto& st = self->state;
      commit_before_answer(st);
      if (!st.stop_requested || st.catalog.ptr == nullptr)
        return make_error(errc::results_not_ready,
                          std::string{"completeness is known once "
                                      "collection started (/stop); the "
                                      "round is "}
                            + to_string(st.current));
      return make_completeness_report(st, all_pods, max_netpols);
    },
    [self](results_atom) -> caf::result<results_snapshot> {
      auto& st = self->state;
      commit_before_answer(st);
      if (st.current != phase::collected)
        return make_error(errc::results_not_ready,
                          std::string{"results are ready once collection "
                                      "finished; the round is "}
                            + to_string(st.current));
      results_snapshot result;
      result.round = st.round;
      for (auto& pod : st.pods)
        if (pod.state == pod_state::collected)
          result.pods.push_back(pod_results{pod.ip, pod.results});
      return result;
    },
    [self](metrics_atom) -> caf::result<proxy_metrics> {
      commit_before_answer(self->state);
      return make_metrics(self->state, self->clock().now());
    },
    [self](drain_atom) -> caf::result<uint32_t> {
      auto& st = self->state;
      st.draining = true;
      auto waiter = self->make_response_promise<uint32_t>();
      st.drain_waiters.push_back(waiter);
      dispatch(self); // answers at once when no call is out
      return waiter;
    },
    [self](dispatch_atom) {
      self->state.dispatch_pending = false;
      dispatch(self);
    },
    [self](commit_atom) {
      commit_before_answer(self->state); // unless an answer did already
    },
    [self](retry_atom, uint64_t round, uint32_t index) {
      auto& st = self->state;
      if (round != st.round || index >= st.pods.size()
          || !st.pods[index].awaiting_retry)
        return; // the round moved on (stopped or restarted) meanwhile
      st.pods[index].awaiting_retry = false;
      --st.in_backoff;
      st.ready.push_back(index);
      dispatch(self);
    },
  };
}

} // namespace netpol
