#include "actors/coordinator_calls.hpp"

#include "actors/coordinator_sampling.hpp"

#include "actors/pod_client.hpp"
#include "actors/round_book.hpp"
#include "actors/round_views.hpp"
#include "messages/duration.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace netpol {

namespace {

using self_pointer = coordinator_pointer;

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

bool phase_runs(const coordinator_state& st) {
  return st.meta.current == phase::delivering
         || st.meta.current == phase::collecting;
}

void log_progress(self_pointer self) {
  auto& st = self->state;
  auto count = [&](pod_state x) { return st.progress.counts[slot(x)]; };
  auto total = st.progress.pods.size();
  if (st.meta.current == phase::delivering) {
    auto done = st.progress.delivered + st.progress.unconfirmed
                + st.progress.delivery_failed;
    spdlog::info("Delivery progress: {}/{} pods done ({} delivered, {} "
                 "unconfirmed, {} failed), {} in flight, {} waiting to retry",
                 done, total, st.progress.delivered, st.progress.unconfirmed,
                 st.progress.delivery_failed, count(pod_state::delivering),
                 st.progress.in_backoff);
  } else if (st.meta.current == phase::collecting) {
    auto done = count(pod_state::collected) + count(pod_state::collect_failed);
    spdlog::info("Collection progress: {}/{} pods done ({} collected, {} "
                 "failed), {} in flight, {} waiting to retry",
                 done, total, count(pod_state::collected),
                 count(pod_state::collect_failed), count(pod_state::collecting),
                 st.progress.in_backoff);
  }
}

} // namespace

void add_worker(coordinator_pointer self) {
  auto worker = self->state.make_worker(self->system());
  self->monitor(worker);
  self->state.pool.idle.push_back(std::move(worker));
}

void update_phase(coordinator_pointer self) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto total = st.progress.pods.size();
  if (st.meta.current == phase::delivering
      && st.progress.delivered + st.progress.unconfirmed
             + st.progress.delivery_failed
           == total) {
    st.meta.current = phase::delivered;
    st.progress.delivered_at = now;
    st.progress.timeline.note(now, st.progress.counts, true);
    st.meta.delivered_unix_ms = unix_ms_now();
    spdlog::info("Delivery finished in {:.2f}s: {}/{} pods delivered, {} "
                 "unconfirmed, {} failed",
                 seconds(now - st.progress.started_at), st.progress.delivered,
                 total, st.progress.unconfirmed, st.progress.delivery_failed);
    start_sweep(self);
  }
  if (st.meta.current == phase::collecting
      && st.progress.counts[slot(pod_state::collected)]
             + st.progress.counts[slot(pod_state::collect_failed)]
           == total) {
    st.meta.current = phase::collected;
    st.progress.collected_at = now;
    st.progress.timeline.note(now, st.progress.counts, true);
    st.meta.collected_unix_ms = unix_ms_now();
    spdlog::info("Results collected from {}/{} pods in {:.2f}s ({} entries, "
                 "{}), {} failed",
                 st.progress.counts[slot(pod_state::collected)], total,
                 seconds(now - st.progress.stop_at),
                 st.progress.results_entries,
                 format_bytes(st.progress.results_bytes),
                 st.progress.counts[slot(pod_state::collect_failed)]);
    log_completeness(st);
  }
}

void start_progress_timer(coordinator_pointer self) {
  auto& st = self->state;
  ++st.progress_timer;
  if (phase_runs(st))
    self->delayed_send(self, st.settings.progress_interval, progress_atom_v,
                       st.progress_timer);
}

void progress_timer_fired(coordinator_pointer self, uint64_t timer) {
  auto& st = self->state;
  // Draining, the calls out are being cut off and no new one starts: the
  // phase would never end, and the process is about to.
  if (timer != st.progress_timer || !phase_runs(st) || st.drain.draining)
    return;
  log_progress(self);
  self->delayed_send(self, st.settings.progress_interval, progress_atom_v,
                     timer);
}

namespace {

void schedule_retry(self_pointer self, uint32_t index, pod_state waiting,
                    uint32_t failed_attempts) {
  auto& st = self->state;
  auto& pod = st.progress.pods[index];
  set_state(st, pod, waiting);
  pod.awaiting_retry = true;
  ++st.progress.in_backoff;
  auto delay = st.settings.backoff(failed_attempts);
  pod.retry_at_unix_ms
    = unix_ms_now()
      + std::chrono::duration_cast<std::chrono::milliseconds>(delay).count();
  self->delayed_send(self, delay, retry_atom_v, st.meta.round, index);
}

/// Whether a failed /check may be sent again: only when it provably never
/// reached the pod (docs/protocol.md §7: the real client takes /check once, and a
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
  auto& pod = st.progress.pods[index];
  if (out.status == call_status::ok) {
    end_delivery(st, index, pod_state::delivered);
    pod.delivered_after = self->clock().now() - st.progress.started_at;
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
               && !st.meta.stop_requested) {
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
  if (st.meta.stop_requested && is_delivery_terminal(pod.state))
    queue_collection(st, index);
}

void settle_collection(self_pointer self, uint32_t index, pod_outcome& out) {
  auto& st = self->state;
  auto& pod = st.progress.pods[index];
  if (out.status == call_status::ok) {
    keep_sample_if_not_extended(st, index, out);
    set_state(st, pod, pod_state::collected);
    if (!pod.served_sample.empty())
      note_problem(st, index);
    pod.collected_after = self->clock().now() - st.progress.stop_at;
    pod.results = std::move(out.body);
    pod.results_entries = out.entries;
    st.progress.results_bytes += pod.results.size();
    st.progress.results_entries += out.entries;
    account_collected(st, index, out.completeness);
    st.journal.save_collected(st.meta.round, index, out.compressed);
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
  spdlog::error("Pod {}: collecting results failed after {} attempts: {}",
                pod.ip, pod.collection_attempts, pod.collection_error);
  if (serve_sample_of_lost_pod(st, index))
    return;
  if (st.progress.catalog.ptr && pod.tests > 0)
    list_in_report(st, index); // its tests are unknown
}

/// Counts the call for /metrics: outcome, retry, latency.
void record_call(coordinator_state& st, stage kind, const pod_outcome& out) {
  st.totals.count_call(kind, out.status,
                       std::chrono::duration<double>(out.elapsed).count());
}

void settle(self_pointer self, const call_in_flight& call, pod_outcome& out) {
  auto& st = self->state;
  record_call(st, call.kind, out);
  if (call.round != st.meta.round || call.pod >= st.progress.pods.size()) {
    // A call of a superseded round: discarded. A pod of the new round at
    // the same address may go now.
    if (!call.stale_ip.empty())
      release_address(st, call.stale_ip);
    return;
  }
  st.journal.call_ended(st.meta.round, call.pod, call.kind, call.attempt, out);
  if (out.status == call_status::cancelled
      && (call.kind == stage::collection || !out.request_sent)) {
    // A clean stop cut it off before the pod could have taken it: asked
    // again after a restart (a /check only if it never went out).
    undo_call(st, call.pod, call.kind, out.request_sent);
    return;
  }
  if (call.kind == stage::delivery)
    settle_delivery(self, call.pod, out);
  else
    settle_collection(self, call.pod, out);
  update_phase(self);
}

/// Dispatches now, or, while more messages wait in the mailbox (workers'
/// answers arrive in waves), once they are handled: the store then commits
/// the wave once, not once per answer (round_journal::shares_commits).
void dispatch_sharing_commit(self_pointer self) {
  auto& st = self->state;
  if (!st.journal.shares_commits() || self->mailbox().empty()) {
    dispatch(self);
    return;
  }
  if (!st.dispatch_pending) {
    st.dispatch_pending = true;
    self->send(self, dispatch_atom_v);
  }
}

void call_done(self_pointer self, caf::actor_id worker, pod_outcome& out) {
  auto& st = self->state;
  auto i = st.pool.busy.find(worker);
  if (i == st.pool.busy.end())
    return; // already settled as a crash
  auto call = std::move(i->second);
  st.pool.busy.erase(i);
  st.pool.idle.push_back(call.handle);
  if (st.drain.draining)
    ++st.drain.drained;
  settle(self, call, out);
  dispatch_sharing_commit(self);
}

/// The worker died with a call in flight, or never answered: count the call
/// as a failed attempt and put a fresh worker in its place. Called from the
/// request's error handler only: every request ends in an answer or an error
/// (at the latest at its deadline), so the DOWN message of a busy worker is
/// left to it.
void worker_lost(self_pointer self, caf::actor_id worker,
                 const caf::error& reason) {
  auto& st = self->state;
  auto i = st.pool.busy.find(worker);
  if (i == st.pool.busy.end())
    return;
  auto call = std::move(i->second);
  st.pool.busy.erase(i);
  if (st.drain.draining)
    ++st.drain.drained;
  pod_outcome out;
  if (reason == caf::sec::request_receiver_down) {
    // Gone before it read the job: the call was never made.
    out.status = call_status::worker_crashed;
    out.detail = "worker died before the call";
  } else if (reason == caf::sec::request_timeout) {
    // Stuck in a call its own deadline should have ended: retire it.
    self->demonitor(call.handle.address());
    self->send_exit(call.handle, caf::exit_reason::kill);
    out.status = call_status::timeout;
    out.request_sent = true; // nobody knows how far it got
    out.detail = "worker gave no answer within "
                 + describe_duration(st.settings.worker_deadline());
  } else {
    out.status = call_status::worker_crashed;
    out.request_sent = true; // it died during the call: maybe after sending
    out.detail = "worker died: " + self->system().render(reason);
  }
  ++st.pool.restarts;
  spdlog::warn(
    "Worker calling pod {} lost ({}); starting a replacement",
    call.pod < st.progress.pods.size() ? st.progress.pods[call.pod].ip : "?",
    out.detail);
  add_worker(self);
  settle(self, call, out);
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
  auto& pod = st.progress.pods[index];
  auto kind = pod.state == pod_state::queued ? stage::delivery
                                             : stage::collection;
  auto& attempts = kind == stage::delivery ? pod.delivery_attempts
                                           : pod.collection_attempts;
  if (attempts > 0) {
    ++st.meta.retries;
    ++st.totals.retries[static_cast<size_t>(kind)];
  }
  ++attempts;
  ++st.meta.calls;
  set_state_untouched(st, pod,
                      kind == stage::delivery ? pod_state::delivering
                                              : pod_state::collecting);
  pod_job job;
  job.round = st.meta.round;
  job.pod = index;
  job.ip = pod.ip;
  if (kind == stage::delivery) {
    job.payload = pod.connections;
  } else {
    job.expected = pod.expected;
    job.catalog = st.progress.catalog;
    job.compress = st.journal.durable();
  }
  pod.retry_at_unix_ms = 0;
  st.pool.busy.emplace(
    worker->id(),
    call_in_flight{worker, st.meta.round, index, kind, attempts, {}});
  st.journal.call_started(st.meta.round, index, kind, attempts, unix_ms_now());
  return outgoing_call{std::move(worker), kind, std::move(job)};
}

void send_call(self_pointer self, outgoing_call& call) {
  auto id = call.worker->id();
  auto on_outcome = [self, id](pod_outcome& out) { call_done(self, id, out); };
  auto on_error = [self, id](caf::error& err) { worker_lost(self, id, err); };
  auto deadline = self->state.settings.worker_deadline();
  if (call.kind == stage::delivery)
    self->request(call.worker, deadline, deliver_atom_v, std::move(call.job))
      .then(on_outcome, on_error);
  else
    self->request(call.worker, deadline, collect_atom_v, std::move(call.job))
      .then(on_outcome, on_error);
}

} // namespace

void hold_address(coordinator_state& st, const std::string& ip) {
  ++st.pool.outside_calls[ip];
}

void release_address(coordinator_state& st, const std::string& ip) {
  auto i = st.pool.outside_calls.find(ip);
  if (i == st.pool.outside_calls.end() || --i->second > 0)
    return;
  st.pool.outside_calls.erase(i);
  if (auto d = st.pool.deferred.find(ip); d != st.pool.deferred.end()) {
    for (auto index : d->second)
      st.progress.ready.push_front(index);
    st.pool.deferred.erase(d);
  }
}

void commit_soon(coordinator_pointer self) {
  if (self->state.journal.commit_soon())
    self->delayed_send(self, grouped_commit_window, commit_atom_v);
}

// What changed, and a /check about to start, are committed before it goes,
// and so is a /check that ended; when only /results calls started or ended
// the commit may wait (commit_soon).
void dispatch(coordinator_pointer self) {
  auto& st = self->state;
  if (st.drain.draining) {
    commit(st);
    if (st.pool.busy.empty()) {
      for (auto& waiter : st.drain.waiters)
        waiter.deliver(st.drain.drained);
      st.drain.waiters.clear();
    }
    return;
  }
  std::vector<outgoing_call> calls;
  while (!st.progress.ready.empty() && !st.pool.idle.empty()) {
    auto index = st.progress.ready.front();
    st.progress.ready.pop_front();
    if (!st.pool.outside_calls.empty()) {
      auto& ip = st.progress.pods[index].ip;
      if (st.pool.outside_calls.count(ip) > 0) {
        st.pool.deferred[ip].push_back(index); // after the old round's call
        continue;
      }
    }
    auto worker = std::move(st.pool.idle.front());
    st.pool.idle.pop_front();
    calls.push_back(prepare_call(self, index, std::move(worker)));
  }
  st.progress.timeline.note(self->clock().now(), st.progress.counts);
  auto checks = std::any_of(calls.begin(), calls.end(), [](auto& call) {
    return call.kind == stage::delivery;
  });
  if (st.journal.commits_now(checks))
    commit(st);
  else
    commit_soon(self);
  for (auto& call : calls)
    send_call(self, call);
}

} // namespace netpol
