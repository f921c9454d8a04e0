#define CAF_SUITE round_timeline

#include "actors/round_timeline.hpp"

#include "support/test.hpp"

using namespace netpol;
using namespace std::chrono_literals;

namespace {

using counts_t = std::array<uint32_t, pod_state_count>;

counts_t queued(uint32_t n, uint32_t delivered = 0) {
  counts_t c{};
  c[static_cast<size_t>(pod_state::queued)] = n;
  c[static_cast<size_t>(pod_state::delivered)] = delivered;
  return c;
}

uint32_t delivered_at(const state_timeline& t, size_t sample) {
  return t.counts[sample * pod_state_count
                  + static_cast<size_t>(pod_state::delivered)];
}

} // namespace

TEST(samples are kept an interval apart and the view ends now) {
  round_timeline timeline;
  caf::actor_clock::time_point start{};
  timeline.reset(start);
  timeline.note(start, queued(10));
  MESSAGE("changes within the interval are not sampled");
  timeline.note(start + 100ms, queued(9, 1));
  timeline.note(start + 260ms, queued(8, 2));
  auto view = timeline.view(start + 300ms, queued(7, 3));
  REQUIRE_EQUAL(view.at_ms.size(), 3u);
  CHECK_EQUAL(view.at_ms[0], 0u);
  CHECK_EQUAL(view.at_ms[1], 260u);
  CHECK_EQUAL(view.at_ms[2], 300u);
  CHECK_EQUAL(view.counts.size(), 3 * pod_state_count);
  CHECK_EQUAL(delivered_at(view, 1), 2u);
  CHECK_EQUAL(delivered_at(view, 2), 3u);
  CHECK_EQUAL(view.interval_ms, round_timeline::first_interval_ms);
  MESSAGE("a phase's end is sampled at once");
  timeline.note(start + 310ms, queued(0, 10), true);
  view = timeline.view(start + 310ms, queued(0, 10));
  REQUIRE_EQUAL(view.at_ms.size(), 3u);
  CHECK_EQUAL(view.at_ms.back(), 310u);
  CHECK_EQUAL(delivered_at(view, 2), 10u);
}

TEST(a long round keeps its whole shape in bounded room) {
  round_timeline timeline;
  caf::actor_clock::time_point start{};
  timeline.reset(start);
  // Five hours, a change every 100 ms: 180,000 notes.
  for (uint32_t i = 0; i < 180'000; ++i)
    timeline.note(start + std::chrono::milliseconds(100 * i), queued(i));
  auto view = timeline.view(start + 5h, queued(0, 1));
  CHECK_LESS_OR_EQUAL(view.at_ms.size(), round_timeline::max_samples + 1);
  CHECK_GREATER(view.at_ms.size(), round_timeline::max_samples / 2);
  CHECK_EQUAL(view.at_ms.front(), 0u);
  CHECK_EQUAL(view.at_ms.back(), 5u * 3600 * 1000);
  CHECK_GREATER(view.interval_ms, round_timeline::first_interval_ms);
  bool ordered = true;
  for (size_t i = 1; i < view.at_ms.size(); ++i)
    ordered = ordered && view.at_ms[i] > view.at_ms[i - 1];
  CHECK(ordered);
  MESSAGE("each kept sample still holds its own counts");
  auto q = static_cast<size_t>(pod_state::queued);
  CHECK_EQUAL(view.counts[pod_state_count + q], view.at_ms[1] / 100);
}

TEST(a new round starts an empty timeline) {
  round_timeline timeline;
  caf::actor_clock::time_point start{};
  CHECK(timeline.view(start, queued(1)).at_ms.empty());
  timeline.reset(start);
  timeline.note(start + 1s, queued(5));
  timeline.reset(start + 2s);
  auto view = timeline.view(start + 2s, queued(3));
  REQUIRE_EQUAL(view.at_ms.size(), 1u);
  CHECK_EQUAL(view.at_ms[0], 0u);
}
