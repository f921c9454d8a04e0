#include "actors/sampler.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace netpol {

namespace {

using self_pointer = sampler_actor::stateful_pointer<sampler_state>;

void add_worker(self_pointer self) {
  auto worker = self->state.make_worker(self->system());
  self->monitor(worker);
  self->state.lane.idle.push_back(std::move(worker));
}

void start_calls(self_pointer self);

/// What a call of the lane does.
enum class lane_call { sample, confirm, resend };

/// A call ended, answered or not: a sample or what asking an unconfirmed
/// pod settled (of sweep `number`), or a list sent again.
void call_ended(self_pointer self, lane_call kind, uint64_t number,
                const pod_job& job, pod_outcome& out) {
  auto& st = self->state;
  if (kind == lane_call::resend) {
    // Always told: the coordinator holds the pod's address until then.
    --st.resends.out;
    self->send(st.coordinator, resent_atom_v, job.round, job.pod, job.ip,
               std::move(out));
    return start_calls(self);
  }
  if (number != st.sweep.number)
    return start_calls(self); // of a sweep that was stopped or replaced
  --st.sweep.out;
  ++st.sweep.answered;
  if (kind == lane_call::confirm)
    self->send(st.coordinator, confirmed_atom_v, st.sweep.round, job.pod,
               std::move(out));
  else
    self->send(st.coordinator, sample_atom_v, st.sweep.round, job.pod,
               std::move(out));
  start_calls(self);
}

/// The worker making a call is lost (stuck past its deadline, or dead):
/// replaced, and the call ends as failed.
void worker_lost(self_pointer self, pod_worker_actor worker, lane_call kind,
                 uint64_t number, const pod_job& job, const caf::error& err) {
  auto& st = self->state;
  pod_outcome out;
  out.status = call_status::worker_crashed;
  out.request_sent = true; // nobody knows how far it got
  out.detail = "sampling worker lost: " + self->system().render(err);
  if (err == caf::sec::request_timeout) {
    out.status = call_status::timeout;
    out.detail = "sampling worker gave no answer within "
                 + describe_duration(st.deadline);
  }
  st.lane.busy.erase(worker->id());
  self->demonitor(worker.address());
  self->send_exit(worker, caf::exit_reason::kill);
  ++st.lane.restarts;
  add_worker(self);
  call_ended(self, kind, number, job, out);
}

/// The next job: a list to send again first, then the sweep's.
bool next_job(sampler_state& st, pod_job& job, lane_call& kind) {
  if (!st.resends.left.empty()) {
    job = std::move(st.resends.left.front());
    st.resends.left.pop_front();
    ++st.resends.out;
    kind = lane_call::resend;
    return true;
  }
  if (st.sweep.left.empty())
    return false;
  job = std::move(st.sweep.left.front());
  st.sweep.left.pop_front();
  ++st.sweep.out;
  // A job with the pod's connections asks whether it holds them.
  kind = job.payload.size() > 0 ? lane_call::confirm : lane_call::sample;
  return true;
}

void start_calls(self_pointer self) {
  auto& st = self->state;
  pod_job job;
  lane_call kind;
  while (!st.lane.idle.empty() && next_job(st, job, kind)) {
    auto worker = std::move(st.lane.idle.front());
    st.lane.idle.pop_front();
    st.lane.busy.emplace(worker->id(), worker);
    auto number = st.sweep.number;
    // Only the job's identity is kept for its end: its list may be large.
    pod_job ends;
    ends.round = job.round;
    ends.pod = job.pod;
    ends.ip = job.ip;
    auto answered = [self, worker, kind, number, ends](pod_outcome& out) {
      self->state.lane.busy.erase(worker->id());
      self->state.lane.idle.push_back(worker);
      call_ended(self, kind, number, ends, out);
    };
    auto lost = [self, worker, kind, number, ends](caf::error& err) {
      worker_lost(self, worker, kind, number, ends, err);
    };
    auto deadline = st.deadline;
    if (kind == lane_call::resend)
      self->request(worker, deadline, deliver_atom_v, std::move(job))
        .then(answered, lost);
    else if (kind == lane_call::confirm)
      self->request(worker, deadline, confirm_atom_v, std::move(job))
        .then(answered, lost);
    else
      self->request(worker, deadline, collect_atom_v, std::move(job))
        .then(answered, lost);
  }
  if (st.sweep.running && st.sweep.left.empty() && st.sweep.out == 0) {
    st.sweep.running = false;
    self->send(st.coordinator, swept_atom_v, st.sweep.round,
               st.sweep.answered);
  }
}

} // namespace

sampler_actor::behavior_type
sampler(sampler_actor::stateful_pointer<sampler_state> self,
        coordinator_actor coordinator, worker_factory make_worker,
        uint32_t width, caf::timespan deadline) {
  auto& st = self->state;
  st.coordinator = std::move(coordinator);
  st.make_worker = std::move(make_worker);
  st.deadline = deadline;
  for (uint32_t i = 0; i < width; ++i)
    add_worker(self);
  // A busy worker's end comes through its request's error handler; an idle
  // one that dies is replaced here.
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& idle = self->state.lane.idle;
    for (auto i = idle.begin(); i != idle.end(); ++i)
      if ((*i)->address() == msg.source) {
        idle.erase(i);
        ++self->state.lane.restarts;
        add_worker(self);
        return start_calls(self);
      }
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& worker : self->state.lane.idle)
      self->send_exit(worker, msg.reason);
    for (auto& [id, worker] : self->state.lane.busy)
      self->send_exit(worker, msg.reason);
    self->quit(msg.reason);
  });
  return {
    [self](sweep_atom, sample_sweep& sweep) {
      auto& st = self->state;
      st.sweep.round = sweep.round;
      ++st.sweep.number;
      st.sweep.left.assign(std::make_move_iterator(sweep.jobs.begin()),
                           std::make_move_iterator(sweep.jobs.end()));
      st.sweep.out = 0;
      st.sweep.answered = 0;
      st.sweep.running = true;
      start_calls(self);
    },
    [self](resend_atom, pod_job& job) {
      self->state.resends.left.push_back(std::move(job));
      start_calls(self);
    },
    [self](stop_atom) {
      auto& st = self->state;
      ++st.sweep.number;
      st.sweep.left.clear();
      st.sweep.out = 0;
      st.sweep.running = false;
      // A list not sent yet is not: told as such, to free its address.
      for (auto& job : st.resends.left) {
        pod_outcome out;
        out.status = call_status::cancelled;
        out.detail = "not sent again: /stop, a new round or a clean stop came first";
        self->send(st.coordinator, resent_atom_v, job.round, job.pod, job.ip,
                   std::move(out));
      }
      st.resends.left.clear();
    },
  };
}

} // namespace netpol
