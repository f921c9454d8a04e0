#include "actors/round_timeline.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace netpol {

void round_timeline::reset(caf::actor_clock::time_point start) {
  start_ = start;
  started_ = true;
  samples_ = state_timeline{};
  samples_.interval_ms = first_interval_ms;
}

uint32_t round_timeline::since_start_ms(caf::actor_clock::time_point now) const {
  if (!started_ || now <= start_)
    return 0;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_)
              .count();
  return static_cast<uint32_t>(std::min<int64_t>(ms, UINT32_MAX));
}

void round_timeline::note(caf::actor_clock::time_point now,
                          const std::array<uint32_t, pod_state_count>& counts,
                          bool force) {
  if (!started_)
    return;
  auto at = since_start_ms(now);
  auto& s = samples_;
  if (!s.at_ms.empty() && !force && at - s.at_ms.back() < s.interval_ms)
    return;
  if (!s.at_ms.empty() && at == s.at_ms.back()) {
    // The same instant again: the latest counts win.
    std::copy(counts.begin(), counts.end(), s.counts.end() - pod_state_count);
    return;
  }
  if (s.at_ms.size() == max_samples) {
    // Full: keep every other sample (the first and the latest stay).
    size_t kept = 0;
    for (size_t i = 0; i < s.at_ms.size(); i += 2, ++kept) {
      s.at_ms[kept] = s.at_ms[i];
      std::copy_n(s.counts.begin() + i * pod_state_count, pod_state_count,
                  s.counts.begin() + kept * pod_state_count);
    }
    s.at_ms.resize(kept);
    s.counts.resize(kept * pod_state_count);
    s.interval_ms *= 2;
  }
  s.at_ms.push_back(at);
  s.counts.insert(s.counts.end(), counts.begin(), counts.end());
}

state_timeline
round_timeline::view(caf::actor_clock::time_point now,
                     const std::array<uint32_t, pod_state_count>& counts) const {
  auto result = samples_;
  if (!started_)
    return result;
  auto at = since_start_ms(now);
  if (result.at_ms.empty() || at > result.at_ms.back()) {
    result.at_ms.push_back(at);
    result.counts.insert(result.counts.end(), counts.begin(), counts.end());
  }
  return result;
}

} // namespace netpol
