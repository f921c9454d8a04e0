// Pods by state over a round, sampled as the round goes, for the live page's
// chart (/status?timeline=1). Bounded: when full, every other sample goes
// and the interval doubles, so a five-hour round keeps its whole shape in
// the same room as a five-second one.
#pragma once

#include "messages/types.hpp"

#include <caf/actor_clock.hpp>

#include <array>
#include <cstdint>

namespace netpol {

class round_timeline {
public:
  static constexpr size_t max_samples = 512;
  static constexpr uint32_t first_interval_ms = 250;

  /// A new round started at `start`.
  void reset(caf::actor_clock::time_point start);

  /// The counts at `now`; kept if an interval passed since the last sample
  /// (or if `force`, for the instant a phase ends).
  void note(caf::actor_clock::time_point now,
            const std::array<uint32_t, pod_state_count>& counts,
            bool force = false);

  /// Every sample, and `counts` at `now` as the last one.
  state_timeline view(caf::actor_clock::time_point now,
                      const std::array<uint32_t, pod_state_count>& counts) const;

private:
  uint32_t since_start_ms(caf::actor_clock::time_point now) const;

  caf::actor_clock::time_point start_{};
  state_timeline samples_;
  bool started_ = false;
};

} // namespace netpol
