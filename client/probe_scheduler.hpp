// When each target is probed: every target on its own schedule, no probe
// waiting for another, the load capped per pod (docs/client.md, "Probing").
// Pure logic: the caller passes the time and runs the scheduler when the
// next wake-up comes; probes go through a prober (client/prober.hpp).
#pragma once

#include "client/check_list.hpp"
#include "client/prober.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

namespace netpol::client {

using namespace std::chrono_literals;

struct schedule_settings {
  /// Time between two probes of one target, when the cap allows it: at
  /// 200 ms the error stays under 250 ms for 100 tests (docs/client.md,
  /// "Choosing the interval, and the load it costs").
  std::chrono::nanoseconds interval = 200ms;
  /// Probes started per second at most, over all targets; the interval
  /// stretches to (targets pending / this) when that is longer. 0: no cap.
  uint32_t max_probes_per_second = 500;
  /// Time a connected probe has for its status line and header, from its
  /// start (the real client's HTTP timeout).
  std::chrono::nanoseconds answer_timeout = 1500ms;
  /// Time a probe waits for its SYN to be answered when the interval is
  /// longer: under Linux's first SYN retransmission (1 s), so that every
  /// probe sends exactly one SYN and the cap bounds the SYNs too.
  std::chrono::nanoseconds connect_limit = 900ms;
};

/// What the probes came to, for /status and the log.
struct probe_counts {
  uint64_t sent = 0;
  uint64_t succeeded = 0;            // probes answered 200 (one per target)
  uint64_t abandoned_connecting = 0; // no SYN-ACK before the next was due
  uint64_t abandoned_connected = 0;  // connected, no header in time
  std::array<uint64_t, probe_failure_kinds> failed = {};
};

class probe_scheduler final : public probe_events {
public:
  using steady = std::chrono::steady_clock;
  using wall = std::chrono::system_clock;

  /// Called once per target, at its first success: the target's index in
  /// the list, the status line's arrival, the probes it took.
  using success_handler
    = std::function<void(size_t target, wall::time_point at, uint64_t probes)>;

  /// Schedules every target of `list` (which must outlive the scheduler)
  /// from `now`: the first probes spread evenly over one interval.
  probe_scheduler(const schedule_settings& settings, const check_list& list,
                  prober& probes, success_handler on_success,
                  steady::time_point now);

  /// Starts every probe due by `now` and drops those past their limits.
  /// Returns when to run again (steady::time_point::max(): nothing left).
  steady::time_point run(steady::time_point now);

  /// When run() should be called next.
  steady::time_point next_wakeup() const;

  /// Called, outside run(), when a probe's event made the next wake-up
  /// earlier than it was (a connected probe's answer deadline).
  void on_earlier_wakeup(std::function<void(steady::time_point)> f) {
    on_earlier_wakeup_ = std::move(f);
  }

  /// The interval in force: the configured one, or longer under the cap.
  std::chrono::nanoseconds effective_interval() const;

  size_t targets_pending() const {
    return pending_;
  }
  size_t probes_in_flight() const {
    return target_of_.size();
  }
  const probe_counts& counts() const {
    return counts_;
  }

  // probe_events
  void probe_connected(probe_id id) override;
  void probe_succeeded(probe_id id, wall::time_point at) override;
  void probe_failed(probe_id id, probe_failure why) override;

private:
  /// A probe a target holds: at most two, the one started last and one
  /// older that connected and still waits for its header.
  struct probe_slot {
    probe_id id = 0; // 0: none
    steady::time_point started;
    bool connected = false;
  };

  struct target_state {
    probe_slot current;
    probe_slot held;
    steady::time_point next_due;
    uint64_t probes = 0;
    bool done = false;
  };

  /// A moment something is due: the target's next probe (probe 0) or a
  /// limit of one of its probes.
  struct timer {
    steady::time_point at;
    size_t target;
    probe_id probe;
    bool operator>(const timer& other) const {
      return at > other.at;
    }
  };

  void start_probe(size_t index, steady::time_point now);
  void retire_current(target_state& t);
  void check_limits(size_t index, probe_id id, steady::time_point now);
  void drop(probe_slot& slot);
  void push(timer t);
  /// The target whose probe `id` is, while that probe is live.
  target_state* owner(probe_id id, size_t* index = nullptr);

  schedule_settings settings_;
  const check_list& list_;
  prober& prober_;
  success_handler on_success_;
  std::function<void(steady::time_point)> on_earlier_wakeup_;

  std::vector<target_state> targets_;
  std::priority_queue<timer, std::vector<timer>, std::greater<timer>> timers_;
  std::unordered_map<probe_id, size_t> target_of_; // live probes
  probe_id next_id_ = 1;
  size_t pending_ = 0;
  bool running_ = false;
  probe_counts counts_;
};

} // namespace netpol::client
