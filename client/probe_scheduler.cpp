#include "client/probe_scheduler.hpp"

#include <algorithm>
#include <cmath>

namespace netpol::client {

probe_scheduler::probe_scheduler(const schedule_settings& settings,
                                 const check_list& list, prober& probes,
                                 success_handler on_success,
                                 steady::time_point now)
  : settings_(settings),
    list_(list),
    prober_(probes),
    on_success_(std::move(on_success)),
    targets_(list.targets.size()),
    pending_(list.targets.size()) {
  // Spread the first probes over one interval, so the load is even from
  // the start rather than a burst every interval.
  auto spread = effective_interval().count();
  auto n = static_cast<int64_t>(targets_.size());
  for (int64_t i = 0; i < n; ++i) {
    auto due = now + std::chrono::nanoseconds{spread * i / n};
    targets_[i].next_due = due;
    timers_.push({due, static_cast<size_t>(i), 0});
  }
}

std::chrono::nanoseconds probe_scheduler::effective_interval() const {
  if (settings_.max_probes_per_second == 0)
    return settings_.interval;
  auto needed = std::chrono::nanoseconds{std::llround(
    static_cast<double>(pending_) * 1e9 / settings_.max_probes_per_second)};
  return std::max(settings_.interval, needed);
}

probe_scheduler::steady::time_point probe_scheduler::next_wakeup() const {
  return timers_.empty() ? steady::time_point::max() : timers_.top().at;
}

probe_scheduler::steady::time_point
probe_scheduler::run(steady::time_point now) {
  running_ = true;
  while (!timers_.empty() && timers_.top().at <= now) {
    auto due = timers_.top();
    timers_.pop();
    auto& t = targets_[due.target];
    if (t.done)
      continue;
    if (due.probe != 0)
      check_limits(due.target, due.probe, now);
    else if (due.at == t.next_due)
      start_probe(due.target, now);
  }
  running_ = false;
  return next_wakeup();
}

void probe_scheduler::start_probe(size_t index, steady::time_point now) {
  auto& t = targets_[index];
  retire_current(t);
  auto id = next_id_++;
  t.current = probe_slot{id, now, false};
  target_of_.emplace(id, index);
  ++t.probes;
  ++counts_.sent;
  // The next probe keeps to the target's own rhythm; after a stall (the
  // loop ran late) it resumes one interval from now instead of catching up
  // in a burst.
  auto interval = effective_interval();
  auto next = t.next_due + interval;
  if (next <= now)
    next = now + interval;
  t.next_due = next;
  push({next, index, 0});
  if (settings_.connect_limit < interval)
    push({now + settings_.connect_limit, index, id});
  prober_.start(id, list_.targets[index], *this);
}

void probe_scheduler::retire_current(target_state& t) {
  auto& c = t.current;
  if (c.id == 0)
    return;
  if (!c.connected) {
    ++counts_.abandoned_connecting; // a dropped SYN: never waited for
    drop(c);
  } else if (t.held.id == 0) {
    t.held = c; // connected: it keeps its answer deadline
    c = probe_slot{};
  } else {
    ++counts_.abandoned_connected; // the held one is closer to its answer
    drop(c);
  }
}

void probe_scheduler::check_limits(size_t index, probe_id id,
                                   steady::time_point now) {
  auto& t = targets_[index];
  for (auto* slot : {&t.current, &t.held}) {
    if (slot->id != id)
      continue;
    if (!slot->connected) {
      if (now - slot->started >= settings_.connect_limit) {
        ++counts_.abandoned_connecting;
        drop(*slot);
      }
    } else if (now - slot->started >= settings_.answer_timeout) {
      ++counts_.abandoned_connected;
      drop(*slot);
    }
  }
}

void probe_scheduler::drop(probe_slot& slot) {
  prober_.abandon(slot.id);
  target_of_.erase(slot.id);
  slot = probe_slot{};
}

void probe_scheduler::push(timer t) {
  auto before = next_wakeup();
  timers_.push(t);
  if (!running_ && t.at < before && on_earlier_wakeup_)
    on_earlier_wakeup_(t.at);
}

probe_scheduler::target_state* probe_scheduler::owner(probe_id id,
                                                      size_t* index) {
  auto i = target_of_.find(id);
  if (i == target_of_.end())
    return nullptr;
  if (index)
    *index = i->second;
  return &targets_[i->second];
}

void probe_scheduler::probe_connected(probe_id id) {
  size_t index = 0;
  auto* t = owner(id, &index);
  if (!t || t->current.id != id || t->current.connected)
    return;
  t->current.connected = true;
  push({t->current.started + settings_.answer_timeout, index, id});
}

void probe_scheduler::probe_succeeded(probe_id id, wall::time_point at) {
  size_t index = 0;
  auto* t = owner(id, &index);
  if (!t)
    return;
  target_of_.erase(id);
  for (auto* slot : {&t->current, &t->held}) {
    if (slot->id == id)
      *slot = probe_slot{};
    else if (slot->id != 0)
      drop(*slot); // the other probe of a target that is done
  }
  t->done = true;
  --pending_;
  ++counts_.succeeded;
  if (on_success_)
    on_success_(index, at, t->probes);
}

void probe_scheduler::probe_failed(probe_id id, probe_failure why) {
  auto* t = owner(id);
  if (!t)
    return;
  target_of_.erase(id);
  ++counts_.failed[static_cast<size_t>(why)];
  for (auto* slot : {&t->current, &t->held})
    if (slot->id == id)
      *slot = probe_slot{};
}

} // namespace netpol::client
