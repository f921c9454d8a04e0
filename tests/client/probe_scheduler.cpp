#define CAF_SUITE probe_scheduler

#include "client/probe_scheduler.hpp"

#include "client/simulated_prober.hpp"
#include "support/test.hpp"

#include <optional>

using namespace netpol::client;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using wall = std::chrono::system_clock;

namespace {

/// `n` targets 10.0.0.1:8080 ... one connection each.
check_list list_of(size_t n) {
  std::string body = "[";
  for (size_t i = 0; i < n; ++i) {
    if (i > 0)
      body += ',';
    body += "{\"addresses\":[\"10.0." + std::to_string(i / 250) + "."
            + std::to_string(i % 250 + 1)
            + "\"],\"ports\":[8080],\"netpol\":\"np-" + std::to_string(i)
            + "\"}";
  }
  body += "]";
  auto parsed = parse_check_body(body);
  REQUIRE(parsed.list);
  return std::move(*parsed.list);
}

std::string target(size_t i) {
  return "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1)
         + ":8080";
}

struct success {
  size_t target;
  wall::time_point at;
  uint64_t probes;
};

/// A scheduler over a simulated prober, on a simulated clock.
/// The settings the stories below are told with (the defaults may move).
schedule_settings story_settings() {
  schedule_settings s;
  s.interval = 100ms;
  s.max_probes_per_second = 1000;
  s.answer_timeout = 1500ms;
  s.connect_limit = 900ms;
  return s;
}

struct fixture {
  fixture() = default;

  void schedule(size_t targets, schedule_settings s = story_settings()) {
    list = list_of(targets);
    settings = s;
    sched.emplace(
      settings, list, probes,
      [this](size_t t, wall::time_point at, uint64_t n) {
        successes.push_back({t, at, n});
      },
      now);
  }

  /// Moves the clock by `d`, running the scheduler at every wake-up on
  /// the way, as the real loop does.
  void advance(std::chrono::nanoseconds d) {
    auto until = now + d;
    for (;;) {
      auto next = sched->next_wakeup();
      if (next > until)
        break;
      now = std::max(now, next);
      sched->run(now);
    }
    now = until;
    sched->run(now);
  }

  /// How far after the start the scheduler wants to run next.
  std::chrono::nanoseconds next_in() const {
    return sched->next_wakeup() - t0;
  }

  const steady::time_point t0 = steady::time_point{} + 1h;
  steady::time_point now = t0;
  const wall::time_point wall0 = wall::time_point{} + 1'700'000'000s;
  check_list list;
  schedule_settings settings;
  test::simulated_prober probes;
  std::optional<probe_scheduler> sched;
  std::vector<success> successes;
};

} // namespace

FIXTURE_SCOPE(probe_scheduler_tests, fixture)

TEST(each target has its own rhythm and the first probes spread over one
       interval) {
  schedule(4);
  sched->run(now);
  MESSAGE("at the start only the first target is due; the others follow "
          "a quarter interval apart");
  CHECK_EQUAL(probes.started.size(), 1u);
  CHECK_EQUAL(next_in(), std::chrono::nanoseconds{25ms});
  advance(75ms);
  CHECK_EQUAL(probes.started.size(), 4u);
  for (size_t i = 0; i < 4; ++i)
    CHECK_EQUAL(probes.started[i].target, target(i));
  MESSAGE("one interval after its first probe, each target is probed again");
  advance(25ms);
  CHECK_EQUAL(probes.probes_of(target(0)).size(), 2u);
  CHECK_EQUAL(probes.probes_of(target(1)).size(), 1u);
  advance(75ms);
  for (size_t i = 0; i < 4; ++i)
    CHECK_EQUAL(probes.probes_of(target(i)).size(), 2u);
  CHECK_EQUAL(sched->counts().sent, 8u);
}

TEST(a probe with no SYN-ACK when the next is due is abandoned) {
  schedule(1);
  sched->run(now);
  auto first = probes.last_of(target(0));
  advance(99ms);
  CHECK(probes.is_live(first));
  advance(1ms);
  auto second = probes.last_of(target(0));
  CHECK_NOT_EQUAL(first, second);
  CHECK(probes.was_abandoned(first));
  CHECK(probes.is_live(second));
  CHECK_EQUAL(sched->counts().abandoned_connecting, 1u);
  CHECK_EQUAL(sched->probes_in_flight(), 1u);
}

TEST(a dropped SYN delays no other target) {
  schedule(2);
  sched->run(now);
  advance(50ms); // both probed once
  auto blocked = probes.last_of(target(0));
  auto open = probes.last_of(target(1));
  MESSAGE("target 1 answers at once while target 0 stays silent");
  probes.connect(open);
  probes.succeed(open, wall0 + 51ms);
  REQUIRE_EQUAL(successes.size(), 1u);
  CHECK_EQUAL(successes[0].target, 1u);
  CHECK(successes[0].at == wall0 + 51ms);
  CHECK_EQUAL(successes[0].probes, 1u);
  CHECK(probes.is_live(blocked));
  MESSAGE("target 1 is never probed again; target 0 every interval");
  advance(1s);
  CHECK_EQUAL(probes.probes_of(target(1)).size(), 1u);
  CHECK_EQUAL(probes.probes_of(target(0)).size(), 11u);
  CHECK_EQUAL(sched->targets_pending(), 1u);
}

TEST(a connected probe waiting for its header is held and its answer counts) {
  schedule(1);
  sched->run(now);
  auto slow = probes.last_of(target(0));
  advance(1ms);
  probes.connect(slow);
  advance(99ms);
  MESSAGE("the next probe starts on time; the connected one is kept");
  auto next = probes.last_of(target(0));
  CHECK_NOT_EQUAL(slow, next);
  CHECK(probes.is_live(slow));
  CHECK(probes.is_live(next));
  advance(50ms);
  probes.succeed(slow, wall0 + 150ms);
  REQUIRE_EQUAL(successes.size(), 1u);
  CHECK(successes[0].at == wall0 + 150ms);
  MESSAGE("the target is done: its other probe is dropped");
  CHECK(probes.was_abandoned(next));
  CHECK_EQUAL(sched->probes_in_flight(), 0u);
  MESSAGE("nothing is left to wake up for once its last deadline passed");
  advance(2s);
  CHECK(sched->next_wakeup() == steady::time_point::max());
  CHECK_EQUAL(probes.started.size(), 2u);
}

TEST(a target holds two sockets at most and a silent server is given up) {
  schedule(1); // answer timeout 1.5 s
  sched->run(now);
  auto first = probes.last_of(target(0));
  probes.connect(first);
  advance(100ms);
  auto second = probes.last_of(target(0));
  probes.connect(second);
  advance(100ms);
  MESSAGE("the first stays held; the second, connected too, is dropped");
  CHECK(probes.is_live(first));
  CHECK(probes.was_abandoned(second));
  CHECK_EQUAL(probes.live.size(), 2u);
  CHECK_EQUAL(sched->counts().abandoned_connected, 1u);
  MESSAGE("the held one is dropped 1.5 s after it started");
  advance(1299ms);
  CHECK(probes.is_live(first));
  advance(1ms);
  CHECK(probes.was_abandoned(first));
  CHECK_EQUAL(sched->counts().abandoned_connected, 2u);
  CHECK_LESS_OR_EQUAL(probes.live.size(), 2u);
}

TEST(the cap stretches the interval and bounds the probes a second) {
  auto s = story_settings();
  s.max_probes_per_second = 500;
  schedule(100, s);
  CHECK_EQUAL(sched->effective_interval(), std::chrono::nanoseconds{200ms});
  sched->run(now);
  advance(999ms);
  MESSAGE("100 targets pending under a cap of 500/s: 5 probes each a second");
  CHECK_EQUAL(sched->counts().sent, 500u);
  MESSAGE("when half have succeeded, the configured interval is back");
  for (size_t i = 0; i < 50; ++i) {
    auto id = probes.last_of(target(i));
    if (probes.is_live(id)) {
      probes.connect(id);
      probes.succeed(id, wall0 + 1s);
    }
  }
  CHECK_EQUAL(sched->targets_pending(), 50u);
  CHECK_EQUAL(sched->effective_interval(), std::chrono::nanoseconds{100ms});
  auto before = sched->counts().sent;
  advance(1s);
  auto in_a_second = sched->counts().sent - before;
  CHECK_LESS_OR_EQUAL(in_a_second, 500u);
  CHECK_GREATER_OR_EQUAL(in_a_second, 450u);
}

TEST(under a long interval every probe sends one SYN) {
  auto s = story_settings();
  s.max_probes_per_second = 500;
  schedule(1000, s); // 2 s between probes of a target
  CHECK_EQUAL(sched->effective_interval(), std::chrono::nanoseconds{2s});
  sched->run(now);
  auto first = probes.last_of(target(0));
  advance(899ms);
  CHECK(probes.is_live(first));
  MESSAGE("abandoned at 900 ms, before Linux retransmits the SYN at 1 s");
  advance(1ms);
  CHECK(probes.was_abandoned(first));
  CHECK_EQUAL(probes.probes_of(target(0)).size(), 1u);
  advance(1100ms);
  CHECK_EQUAL(probes.probes_of(target(0)).size(), 2u);
}

TEST(a failed probe waits for its turn and a stalled loop does not burst) {
  schedule(1);
  sched->run(now);
  probes.fail(probes.last_of(target(0)), probe_failure::refused);
  CHECK_EQUAL(sched->counts().failed[0], 1u);
  CHECK_EQUAL(sched->probes_in_flight(), 0u);
  CHECK_EQUAL(next_in(), std::chrono::nanoseconds{100ms});
  MESSAGE("the loop runs a second late: one probe, then one interval on");
  now += 1s;
  sched->run(now);
  CHECK_EQUAL(probes.started.size(), 2u);
  CHECK_EQUAL(next_in(), std::chrono::nanoseconds{1100ms});
}

TEST(answers after a probe was dropped are ignored) {
  schedule(1);
  sched->run(now);
  auto first = probes.last_of(target(0));
  auto* events = probes.live.at(first);
  advance(100ms); // abandoned
  REQUIRE(probes.was_abandoned(first));
  events->probe_connected(first);
  events->probe_succeeded(first, wall0);
  events->probe_failed(first, probe_failure::closed);
  CHECK(successes.empty());
  CHECK_EQUAL(sched->targets_pending(), 1u);
  CHECK_EQUAL(sched->counts().failed[2], 0u);
}

FIXTURE_SCOPE_END()
