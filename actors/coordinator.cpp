#include "actors/coordinator.hpp"

#include "actors/pod_client.hpp"
#include "actors/round_book.hpp"
#include "actors/round_views.hpp"
#include "messages/error.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <tuple>

namespace netpol {

namespace {

using self_pointer = coordinator_actor::stateful_pointer<coordinator_state>;

double seconds(caf::timespan x) {
  return std::chrono::duration<double>(x).count();
}

std::string format_bytes(uint64_t bytes) {
  char buf[32];
  if (bytes >= (1u << 20))
    snprintf(buf, sizeof(buf), "%.1f MB", bytes / 1048576.0);
  else if (bytes >= 1024)
    snprintf(buf, sizeof(buf), "%.1f KB", bytes / 1024.0);
  else
    snprintf(buf, sizeof(buf), "%llu bytes",
             static_cast<unsigned long long>(bytes));
  return buf;
}

std::string describe(const pod_outcome& out) {
  return out.detail.empty() ? to_string(out.status) : out.detail;
}

void add_worker(self_pointer self) {
  auto worker = self->state.make_worker(self->system());
  self->monitor(worker);
  self->state.idle.push_back(std::move(worker));
}

void log_progress(self_pointer self, bool force) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (!force && now - st.last_progress_log < st.settings.progress_interval)
    return;
  st.last_progress_log = now;
  auto count = [&](pod_state x) { return st.counts[slot(x)]; };
  auto total = st.pods.size();
  if (st.current == phase::delivering) {
    auto done = st.delivered + st.unconfirmed + st.delivery_failed;
    spdlog::info("Delivery progress: {}/{} pods done ({} delivered, {} "
                 "unconfirmed, {} failed), {} in flight, {} waiting to retry",
                 done, total, st.delivered, st.unconfirmed, st.delivery_failed,
                 count(pod_state::delivering), st.in_backoff);
  } else if (st.current == phase::collecting) {
    auto done = count(pod_state::collected) + count(pod_state::collect_failed);
    spdlog::info("Collection progress: {}/{} pods done ({} collected, {} "
                 "failed), {} in flight, {} waiting to retry",
                 done, total, count(pod_state::collected),
                 count(pod_state::collect_failed),
                 count(pod_state::collecting), st.in_backoff);
  }
}

/// Moves the round to the next phase once every pod is terminal in this one.
void update_phase(self_pointer self) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto total = st.pods.size();
  if (st.current == phase::delivering
      && st.delivered + st.unconfirmed + st.delivery_failed == total) {
    st.current = phase::delivered;
    st.delivered_at = now;
    st.timeline.note(now, st.counts, true);
    st.delivered_unix_ms = unix_ms_now();
    spdlog::info("Delivery finished in {:.2f}s: {}/{} pods delivered, {} "
                 "unconfirmed, {} failed",
                 seconds(now - st.started_at), st.delivered, total,
                 st.unconfirmed, st.delivery_failed);
  }
  if (st.current == phase::collecting
      && st.counts[slot(pod_state::collected)]
             + st.counts[slot(pod_state::collect_failed)]
           == total) {
    st.current = phase::collected;
    st.collected_at = now;
    st.timeline.note(now, st.counts, true);
    st.collected_unix_ms = unix_ms_now();
    spdlog::info("Results collected from {}/{} pods in {:.2f}s ({} entries, "
                 "{}), {} failed",
                 st.counts[slot(pod_state::collected)], total,
                 seconds(now - st.stop_at), st.results_entries,
                 format_bytes(st.results_bytes),
                 st.counts[slot(pod_state::collect_failed)]);
    log_completeness(st);
  }
}

void schedule_retry(self_pointer self, uint32_t index, pod_state waiting,
                    uint32_t failed_attempts) {
  auto& st = self->state;
  auto& pod = st.pods[index];
  set_state(st, pod, waiting);
  pod.awaiting_retry = true;
  ++st.in_backoff;
  auto delay = st.settings.backoff(failed_attempts);
  pod.retry_at_unix_ms
    = unix_ms_now()
      + std::chrono::duration_cast<std::chrono::milliseconds>(delay).count();
  self->delayed_send(self, delay, retry_atom_v, st.round, index);
}

/// Whether a failed /check may be sent again: only when it provably never
/// reached the pod (protocol.md §7: the real client takes /check once, and a
/// second one can duplicate its tests), or the pod answered 5xx.
enum class after_failed_check { retry, give_up, unconfirmed };

after_failed_check classify_failed_check(const pod_outcome& out) {
  if (out.status == call_status::http_error)
    return out.http_status >= 500 ? after_failed_check::retry
                                  : after_failed_check::give_up;
  return out.request_sent ? after_failed_check::unconfirmed
                          : after_failed_check::retry;
}

void settle_delivery(self_pointer self, uint32_t index, pod_outcome& out) {
  auto& st = self->state;
  auto& pod = st.pods[index];
  if (out.status == call_status::ok) {
    end_delivery(st, index, pod_state::delivered);
    pod.delivered_after = self->clock().now() - st.started_at;
    spdlog::info("Connections sent to {} successfully",
                 pod_url(pod.ip, st.settings.client_port, "/check"));
  } else {
    pod.delivery_error = describe(out);
    auto next = classify_failed_check(out);
    if (next == after_failed_check::unconfirmed) {
      end_delivery(st, index, pod_state::unconfirmed);
      spdlog::warn("Pod {}: delivery unconfirmed after attempt {}: the "
                   "request was sent but not answered ({}); it may hold the "
                   "connections and is not sent them again",
                   pod.ip, pod.delivery_attempts, pod.delivery_error);
    } else if (next == after_failed_check::retry
               && pod.delivery_attempts < st.settings.max_attempts()
               && !st.stop_requested) {
      schedule_retry(self, index, pod_state::queued, pod.delivery_attempts);
    } else {
      // An early /stop came while a retryable attempt was out: the next one
      // is not made, and the error says so, as for the pods /stop found
      // waiting.
      if (next == after_failed_check::retry
          && pod.delivery_attempts < st.settings.max_attempts())
        pod.delivery_error += "; round stopped before the next attempt";
      end_delivery(st, index, pod_state::failed);
      spdlog::error("Pod {}: delivery failed after {} attempts: {}", pod.ip,
                    pod.delivery_attempts, pod.delivery_error);
    }
  }
  if (st.stop_requested && is_delivery_terminal(pod.state))
    queue_collection(st, index);
}

void settle_collection(self_pointer self, uint32_t index, pod_outcome& out) {
  auto& st = self->state;
  auto& pod = st.pods[index];
  if (out.status == call_status::ok) {
    set_state(st, pod, pod_state::collected);
    pod.collected_after = self->clock().now() - st.stop_at;
    pod.results = std::move(out.body);
    pod.results_entries = out.entries;
    st.results_bytes += pod.results.size();
    st.results_entries += out.entries;
    account_collected(st, index, out.completeness);
    if (st.store)
      st.store->save_collected(st.round, index, out.compressed);
    spdlog::debug("Results from {}: {} entries, {} bytes",
                  pod_url(pod.ip, st.settings.client_port, "/results"),
                  out.entries, pod.results.size());
    return;
  }
  pod.collection_error = describe(out);
  bool retryable = out.status != call_status::http_error
                   || out.http_status >= 500;
  if (retryable && pod.collection_attempts < st.settings.max_attempts()) {
    schedule_retry(self, index, pod_state::collect_queued,
                   pod.collection_attempts);
    return;
  }
  set_state(st, pod, pod_state::collect_failed);
  note_problem(st, index);
  if (st.catalog.ptr && pod.tests > 0)
    list_in_report(st, index); // its tests are unknown
  spdlog::error("Pod {}: collecting results failed after {} attempts: {}",
                pod.ip, pod.collection_attempts, pod.collection_error);
}

/// Counts the call for /metrics: outcome, retry, latency.
void record_call(coordinator_state& st, stage kind, const pod_outcome& out) {
  auto& m = st.totals;
  auto s = static_cast<size_t>(kind);
  ++m.calls[s * call_status_count + static_cast<size_t>(out.status)];
  auto secs = std::chrono::duration<double>(out.elapsed).count();
  m.latency_sum[s] += secs;
  for (size_t i = 0; i < call_latency_bucket_count; ++i)
    if (secs <= call_latency_buckets[i])
      ++m.latency_buckets[s * call_latency_bucket_count + i];
}

void settle(self_pointer self, const busy_worker& job, pod_outcome& out) {
  auto& st = self->state;
  record_call(st, job.kind, out);
  if (job.round != st.round || job.pod >= st.pods.size()) {
    // A call of a superseded round: discarded. A pod of the new round at
    // the same address may go now.
    if (!job.stale_ip.empty()) {
      auto i = st.stale_in_flight.find(job.stale_ip);
      if (i != st.stale_in_flight.end() && --i->second == 0) {
        st.stale_in_flight.erase(i);
        if (auto d = st.deferred.find(job.stale_ip); d != st.deferred.end()) {
          for (auto index : d->second)
            st.ready.push_front(index);
          st.deferred.erase(d);
        }
      }
    }
    return;
  }
  if (st.store) {
    st.store->call_ended(st.round, job.pod, job.kind, job.attempt, out);
    // A /check's end is never left to a grouped commit: lost in a crash,
    // it would leave the pod unconfirmed (maybe without its list).
    if (job.kind == stage::delivery)
      st.delivery_ended = true;
  }
  if (out.status == call_status::cancelled
      && (job.kind == stage::collection || !out.request_sent)) {
    // A clean stop cut it off before the pod could have taken it: asked
    // again after a restart (a /check only if it never went out).
    undo_call(st, job.pod, job.kind, out.request_sent);
    return;
  }
  if (job.kind == stage::delivery)
    settle_delivery(self, job.pod, out);
  else
    settle_collection(self, job.pod, out);
  update_phase(self);
  log_progress(self, false);
}

void dispatch(self_pointer self);

/// Dispatches now, or, while more messages wait in the mailbox (workers'
/// answers arrive in waves), once they are handled: the store then commits
/// the wave once, not once per answer. Without a store there is no commit
/// to share.
void dispatch_soon(self_pointer self) {
  auto& st = self->state;
  if (!st.store || self->mailbox().empty()) {
    dispatch(self);
    return;
  }
  if (!st.dispatch_pending) {
    st.dispatch_pending = true;
    self->send(self, dispatch_atom_v);
  }
}

void job_done(self_pointer self, caf::actor_id worker, pod_outcome& out) {
  auto& st = self->state;
  auto i = st.busy.find(worker);
  if (i == st.busy.end())
    return; // already settled as a crash
  auto job = std::move(i->second);
  st.busy.erase(i);
  st.idle.push_back(job.handle);
  if (st.draining)
    ++st.drained;
  settle(self, job, out);
  dispatch_soon(self);
}

/// The worker died with a call in flight, or never answered: count the call
/// as a failed attempt and put a fresh worker in its place. Called from the
/// request's error handler only: every request ends in an answer or an error
/// (at the latest at its deadline), so the DOWN message of a busy worker is
/// left to it.
void worker_lost(self_pointer self, caf::actor_id worker,
                 const caf::error& reason) {
  auto& st = self->state;
  auto i = st.busy.find(worker);
  if (i == st.busy.end())
    return;
  auto job = std::move(i->second);
  st.busy.erase(i);
  if (st.draining)
    ++st.drained;
  pod_outcome out;
  if (reason == caf::sec::request_receiver_down) {
    // Gone before it read the job: the call was never made.
    out.status = call_status::worker_crashed;
    out.detail = "worker died before the call";
  } else if (reason == caf::sec::request_timeout) {
    // Stuck in a call its own deadline should have ended: retire it.
    self->demonitor(job.handle.address());
    self->send_exit(job.handle, caf::exit_reason::kill);
    out.status = call_status::timeout;
    out.request_sent = true; // nobody knows how far it got
    out.detail = "worker gave no answer within "
                 + describe_duration(st.settings.worker_deadline());
  } else {
    out.status = call_status::worker_crashed;
    out.request_sent = true; // it died during the call: maybe after sending
    out.detail = "worker died: " + self->system().render(reason);
  }
  ++st.worker_restarts;
  spdlog::warn("Worker calling pod {} lost ({}); starting a replacement",
               job.pod < st.pods.size() ? st.pods[job.pod].ip : "?",
               out.detail);
  add_worker(self);
  settle(self, job, out);
  dispatch(self);
}

/// A call about to go out, prepared while the store commits it.
struct outgoing_call {
  pod_worker_actor worker;
  stage kind;
  pod_job job;
};

outgoing_call prepare_call(self_pointer self, uint32_t index,
                           pod_worker_actor worker) {
  auto& st = self->state;
  auto& pod = st.pods[index];
  auto kind = pod.state == pod_state::queued ? stage::delivery
                                             : stage::collection;
  auto& attempts = kind == stage::delivery ? pod.delivery_attempts
                                           : pod.collection_attempts;
  if (attempts > 0) {
    ++st.retries;
    ++st.totals.retries[static_cast<size_t>(kind)];
  }
  ++attempts;
  ++st.calls;
  set_calling(st, pod,
              kind == stage::delivery ? pod_state::delivering
                                      : pod_state::collecting);
  pod_job job;
  job.round = st.round;
  job.pod = index;
  job.ip = pod.ip;
  if (kind == stage::delivery) {
    job.payload = pod.connections;
  } else {
    job.expected = pod.expected;
    job.catalog = st.catalog;
    job.compress = st.store != nullptr;
  }
  pod.retry_at_unix_ms = 0;
  st.busy.emplace(worker->id(),
                  busy_worker{worker, st.round, index, kind, attempts, {}});
  if (st.store)
    st.store->call_started(st.round, index, kind, attempts, unix_ms_now());
  return outgoing_call{std::move(worker), kind, std::move(job)};
}

void send_call(self_pointer self, outgoing_call& call) {
  auto id = call.worker->id();
  auto on_outcome = [self, id](pod_outcome& out) { job_done(self, id, out); };
  auto on_error = [self, id](caf::error& err) { worker_lost(self, id, err); };
  auto deadline = self->state.settings.worker_deadline();
  if (call.kind == stage::delivery)
    self->request(call.worker, deadline, deliver_atom_v, std::move(call.job))
      .then(on_outcome, on_error);
  else
    self->request(call.worker, deadline, collect_atom_v, std::move(call.job))
      .then(on_outcome, on_error);
}

/// Leaves what changed to a commit within grouped_commit_window; answers
/// that show the round commit it first (commit_before_answer).
void persist_soon(self_pointer self) {
  auto& st = self->state;
  if (!st.store || st.commit_due || (st.dirty.empty() && !st.store->pending()))
    return;
  st.commit_due = true;
  self->delayed_send(self, grouped_commit_window, commit_atom_v);
}

/// Hands ready pods to idle workers; a worker never holds two jobs. What
/// changed, and a /check about to start, are committed before it goes, and
/// so is a /check that ended; when only /results calls started or ended the
/// commit may wait (persist_soon).
void dispatch(self_pointer self) {
  auto& st = self->state;
  if (st.draining) {
    persist(st);
    if (st.busy.empty()) {
      for (auto& waiter : st.drain_waiters)
        waiter.deliver(st.drained);
      st.drain_waiters.clear();
    }
    return;
  }
  std::vector<outgoing_call> calls;
  while (!st.ready.empty() && !st.idle.empty()) {
    auto index = st.ready.front();
    st.ready.pop_front();
    if (!st.stale_in_flight.empty()) {
      auto& ip = st.pods[index].ip;
      if (st.stale_in_flight.count(ip) > 0) {
        st.deferred[ip].push_back(index); // after the old round's call
        continue;
      }
    }
    auto worker = std::move(st.idle.front());
    st.idle.pop_front();
    calls.push_back(prepare_call(self, index, std::move(worker)));
  }
  st.timeline.note(self->clock().now(), st.counts);
  auto checks = std::any_of(calls.begin(), calls.end(), [](auto& call) {
    return call.kind == stage::delivery;
  });
  if (checks || st.delivery_ended)
    persist(st);
  else
    persist_soon(self);
  for (auto& call : calls)
    send_call(self, call);
}

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
  for (auto& [id, job] : st.busy)
    if (job.round == st.round && job.stale_ip.empty()
        && job.pod < st.pods.size()) {
      job.stale_ip = st.pods[job.pod].ip;
      ++st.stale_in_flight[job.stale_ip];
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
/// status poll does not read an old or empty round as its own.
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
    return make_status(st);
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
  return make_status(st);
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
    for (auto& [id, job] : self->state.busy)
      self->send_exit(job.handle, msg.reason);
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
          return make_status(st);
        }
        supersede(self, "round " + std::to_string(st.round + 1));
      }
      start_round(self, plan);
      return make_status(st);
    },
    [self](refused_atom, uint16_t http_status, std::string& reason) {
      note_refusal(self, http_status, std::move(reason));
    },
    [self](stop_atom) -> caf::result<round_status> {
      return stop_round(self);
    },
    [self](status_atom) -> caf::result<round_status> {
      commit_before_answer(self->state);
      return make_status(self->state);
    },
    [self](report_atom, bool all_pods) -> caf::result<round_report> {
      commit_before_answer(self->state);
      return make_report(self->state, self->clock().now(), all_pods);
    },
    [self](complete_atom, bool all_pods,
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
