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

/// A call of sweep `number` ended, answered or not: a sample, or what
/// asking an unconfirmed pod settled (`confirming`).
void call_ended(self_pointer self, uint64_t number, uint32_t pod,
                pod_outcome& out, bool confirming) {
  auto& st = self->state;
  if (number != st.sweep.number)
    return start_calls(self); // of a sweep that was stopped or replaced
  --st.sweep.out;
  ++st.sweep.answered;
  if (confirming)
    self->send(st.coordinator, confirmed_atom_v, st.sweep.round, pod,
               std::move(out));
  else
    self->send(st.coordinator, sample_atom_v, st.sweep.round, pod,
               std::move(out));
  start_calls(self);
}

/// The worker making a call is lost (stuck past its deadline, or dead):
/// replaced, and the call ends as a failed sample.
void worker_lost(self_pointer self, pod_worker_actor worker,
                 uint64_t number, uint32_t pod, const caf::error& err,
                 bool confirming) {
  auto& st = self->state;
  pod_outcome out;
  out.status = call_status::worker_crashed;
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
  call_ended(self, number, pod, out, confirming);
}

void start_calls(self_pointer self) {
  auto& st = self->state;
  while (!st.sweep.left.empty() && !st.lane.idle.empty()) {
    auto job = std::move(st.sweep.left.front());
    st.sweep.left.pop_front();
    auto worker = std::move(st.lane.idle.front());
    st.lane.idle.pop_front();
    st.lane.busy.emplace(worker->id(), worker);
    ++st.sweep.out;
    auto number = st.sweep.number;
    auto pod = job.pod;
    // A job with the pod's connections asks whether it holds them.
    bool confirming = job.payload.size() > 0;
    auto answered = [self, worker, number, pod, confirming](pod_outcome& out) {
      self->state.lane.busy.erase(worker->id());
      self->state.lane.idle.push_back(worker);
      call_ended(self, number, pod, out, confirming);
    };
    auto lost = [self, worker, number, pod, confirming](caf::error& err) {
      worker_lost(self, worker, number, pod, err, confirming);
    };
    if (confirming)
      self->request(worker, st.deadline, confirm_atom_v, std::move(job))
        .then(answered, lost);
    else
      self->request(worker, st.deadline, collect_atom_v, std::move(job))
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
    [self](stop_atom) {
      auto& st = self->state;
      ++st.sweep.number;
      st.sweep.left.clear();
      st.sweep.out = 0;
      st.sweep.running = false;
    },
  };
}

} // namespace netpol
