// Reads the summary.json that the lab_ci test wrote for scenarios/ci.json and
// checks it against what the scenario predicts: every fault group's outcome
// follows from its fault, its parameters and the proxy's retry rules, so
// nothing here is a number copied from a run.
//
// The retry rules (the proxy's pod client, with a total deadline per call):
// - delivery: refused, connect timeout, or a reset or error before the whole
//   request was written: retried (retries + 1 attempts), then failed. HTTP
//   5xx: retried, then failed. 3xx/4xx: failed after one attempt. A 2xx
//   status line: delivered, even if the rest of the answer stalls. Once the
//   whole request was written, a timeout, a reset, a close without answer or
//   a malformed answer (header caps exceeded): unconfirmed after that one
//   attempt, never retried (the pod may have taken the list; a second
//   /check would hang in a real client).
// - collection: retried for everything but 3xx/4xx.
#define CAF_SUITE lab_ci_summary

#include "podsim/scenario.hpp"
#include "support/test.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

using json = nlohmann::json;
using podsim::fault;
using std::chrono::milliseconds;

namespace {

/// Completeness of the tests (docs/experiments.md, "Completeness").
struct tests_expectation {
  uint64_t expected = 0;
  uint64_t reported = 0;
  uint64_t missing = 0;
  uint64_t duplicates = 0;
  uint64_t unexpected = 0;
  uint64_t unknown = 0;
  uint64_t pods_incomplete = 0;
};

struct expectation {
  uint64_t pods = 0;
  uint64_t delivered = 0;
  uint64_t unconfirmed = 0;
  uint64_t failed = 0;
  uint64_t collected = 0;
  uint64_t collect_failed = 0;
  uint64_t delivery_attempts = 0;
  uint64_t collection_attempts = 0;
  uint64_t duplicate_checks = 0; // none: no retry after the request was written
  uint64_t entries_expected = 0; // in the bodies of pods that took /check
  uint64_t entries_received = 0; // of those, in /results
  uint64_t entries_omitted = 0;
  uint64_t entries_duplicated = 0;
  uint64_t entries_alien = 0;
  tests_expectation tests;
};

/// Bytes of "HTTP/1.1 200 OK\r\n": trickle_headers sends the first at once.
constexpr uint64_t status_line_bytes = 17;
/// No connTest entry of ci.json's fleet is shorter than this.
constexpr uint64_t min_entry_bytes = 100;

/// What the proxy does with the `n` pods of a group. `fast(extra)`: a pod
/// that answers within a small part of the request timeout; `late(extra)`:
/// one that answers well after it. Anything in between depends on
/// scheduling, and a scenario that relies on it cannot be checked: the test
/// refuses it.
void predict(const podsim::scenario& s, const podsim::fault_group& g,
             expectation& e) {
  const uint64_t n = g.pods;
  const uint64_t attempts = s.proxy.retries + 1;
  // initiate_body() gives each connection one address and one port: one
  // test per connection.
  const uint64_t tests = s.connections_per_pod;
  auto latency = g.latency.value_or(s.latency) + g.jitter.value_or(s.jitter);
  auto fast = [&](milliseconds extra) {
    return (latency + extra) * 2 < s.proxy.request_timeout;
  };
  auto late = [&](milliseconds extra) {
    return (extra + g.latency.value_or(s.latency)) * 5
           > s.proxy.request_timeout * 6;
  };
  auto delivered = [&](uint64_t k) {
    e.delivered += n;
    e.delivery_attempts += n * k;
  };
  auto unconfirmed = [&] {
    e.unconfirmed += n;
    e.delivery_attempts += n; // never retried
  };
  auto failed = [&](uint64_t k) {
    e.failed += n;
    e.delivery_attempts += n * k;
  };
  // The pod took its list and generated a body of this many entries.
  auto took_list = [&](uint64_t body_entries) {
    e.entries_expected += n * body_entries;
  };
  // Collected after k attempts; its body holds `body` entries, of which
  // `reported` distinct tests, `duplicates` repeats, `unexpected` others.
  auto collected = [&](uint64_t k, uint64_t body, uint64_t reported,
                       uint64_t duplicates, uint64_t unexpected) {
    e.collected += n;
    e.collection_attempts += n * k;
    e.entries_received += n * body;
    e.tests.reported += n * reported;
    e.tests.missing += n * (tests - reported);
    e.tests.duplicates += n * duplicates;
    e.tests.unexpected += n * unexpected;
    e.tests.pods_incomplete += reported < tests ? n : 0;
  };
  // Collected after k attempts, but it never took its list: it answers
  // "[]", and what it could not test is unknown, never missing.
  auto collected_without_list = [&](uint64_t k) {
    e.collected += n;
    e.collection_attempts += n * k;
    e.tests.unknown += n * tests;
    e.tests.pods_incomplete += tests > 0 ? n : 0;
  };
  auto collect_failed = [&] {
    e.collect_failed += n;
    e.collection_attempts += n * attempts;
    e.tests.unknown += n * tests; // never counted as missing
    e.tests.pods_incomplete += tests > 0 ? n : 0;
  };
  e.pods += n;
  e.tests.expected += n * tests; // every pod has its list in /initiate
  switch (g.kind) {
    case fault::none:
      REQUIRE(fast(milliseconds(0)));
      delivered(1);
      took_list(tests);
      collected(1, tests, tests, 0, 0);
      break;
    case fault::down:     // refused: nothing was written
    case fault::http_500: // 5xx
      failed(attempts);
      collect_failed();
      break;
    case fault::hang:  // the request was written, then a timeout
    case fault::reset: // ... then a reset
      unconfirmed();
      collect_failed();
      break;
    case fault::flaky: {
      REQUIRE(fast(milliseconds(0)));
      // The first `failures` requests of any kind answer 500.
      uint64_t failures = static_cast<uint64_t>(g.failures);
      if (failures < attempts) {
        delivered(failures + 1);
        took_list(tests);
        collected(1, tests, tests, 0, 0);
        break;
      }
      failed(attempts);
      uint64_t left = failures - attempts;
      if (left < attempts)
        collected_without_list(left + 1); // "[]": it never took /check
      else
        collect_failed();
      break;
    }
    case fault::slow:
      if (fast(g.delay)) {
        delivered(1);
        took_list(tests);
        collected(1, tests, tests, 0, 0);
      } else {
        REQUIRE(late(g.delay));
        // The pod takes the list when it reads the request but answers
        // after the timeout: unconfirmed, not retried, so no second /check.
        unconfirmed();
        took_list(tests);
        collect_failed(); // every /results is late too
      }
      break;
    case fault::bad_json:
    case fault::case_variant: // kube-burner's decoder would fail on it
    case fault::too_deep:     // ... and on this
      delivered(1);
      took_list(tests);
      collect_failed(); // a bad body is retried, and bad every time
      break;
    case fault::reject_check:
      // 400 is not retried; /results then answers "[]".
      failed(1);
      collected_without_list(1);
      break;
    case fault::crash_after_check:
      delivered(1);
      took_list(tests);
      collect_failed(); // refused from then on
      break;
    case fault::trickle_headers:
      // Not even the status line arrives within the timeout.
      REQUIRE(g.interval * (status_line_bytes - 1) * 5
              > s.proxy.request_timeout * 6);
      unconfirmed();
      took_list(tests);
      collect_failed();
      break;
    case fault::endless_header:
      // A header line past any cap: a malformed answer after the request.
      unconfirmed();
      took_list(tests);
      collect_failed();
      break;
    case fault::slow_answer:
      // The 2xx status line comes at once; the /results body cannot
      // complete within the timeout.
      REQUIRE(fast(milliseconds(0)));
      REQUIRE(tests > 0);
      REQUIRE(g.interval * (tests * min_entry_bytes) * 5
              > s.proxy.request_timeout * 6);
      delivered(1);
      took_list(tests);
      collect_failed();
      break;
    case fault::partial: {
      REQUIRE(fast(milliseconds(0)));
      // The first round(test_fraction x tests), at least one fewer.
      uint64_t kept = tests;
      if (tests > 0 && g.test_fraction < 1.0)
        kept = std::min<uint64_t>(
          static_cast<uint64_t>(std::llround(g.test_fraction * tests)),
          tests - 1);
      delivered(1);
      took_list(kept);
      e.entries_omitted += n * (tests - kept);
      collected(1, kept, kept, 0, 0);
      break;
    }
    case fault::duplicate: {
      REQUIRE(fast(milliseconds(0)));
      uint64_t repeated
        = tests == 0
            ? 0
            : std::clamp<uint64_t>(static_cast<uint64_t>(std::llround(
                                     g.test_fraction * tests)),
                                   1, tests);
      delivered(1);
      took_list(tests + repeated);
      e.entries_duplicated += n * repeated;
      collected(1, tests + repeated, tests, repeated, 0);
      break;
    }
    case fault::alien:
      REQUIRE(fast(milliseconds(0)));
      delivered(1);
      took_list(tests + podsim::alien_entries);
      e.entries_alien += n * podsim::alien_entries;
      collected(1, tests + podsim::alien_entries, tests, 0,
                podsim::alien_entries);
      break;
    case fault::restart: // what they answer depends on when they are asked
    case fault::vanish:  // (`after`), which this model does not follow
    case fault::check_unanswered: // and these on whether the proxy asks
    case fault::check_lost:       // (GET /status), nor does it model that
      CAF_FAIL("ci.json has pods of kind " << podsim::to_string(g.kind)
                                           << ", which predict() cannot model");
      break;
  }
}

struct ci_fixture {
  podsim::scenario s;
  json summary;
  json report;

  ci_fixture() {
    s = podsim::load_scenario(std::string{LAB_SCENARIO_DIR} + "/ci.json");
    std::ifstream in{LAB_CI_SUMMARY};
    REQUIRE(in.good());
    summary = json::parse(in);
    REQUIRE_EQUAL(summary["scenarios"].size(), 1u);
    report = summary["scenarios"][0];
  }

  std::map<std::string, expectation> expected() const {
    std::map<std::string, expectation> out;
    uint64_t faulty = 0;
    for (auto& group : s.faults) {
      if (group.pods == 0)
        continue;
      predict(s, group, out[podsim::to_string(group.kind)]);
      faulty += group.pods;
    }
    podsim::fault_group healthy;
    healthy.kind = fault::none;
    healthy.pods = s.pods - faulty;
    if (healthy.pods > 0)
      predict(s, healthy, out["none"]);
    return out;
  }
};

uint64_t at(const json& j, const char* key) {
  return j.at(key).get<uint64_t>();
}

} // namespace

FIXTURE_SCOPE(lab_ci_summary_tests, ci_fixture)

TEST(the lab ran ci.json with its settings and found nothing wrong) {
  CHECK_EQUAL(report["name"], s.name);
  CHECK_EQUAL(report["pods"], s.pods);
  CHECK_EQUAL(report["proxy"]["workers"], s.proxy.workers);
  CHECK_EQUAL(report["proxy"]["retries"], s.proxy.retries);
  CHECK_EQUAL(report["proxy"]["request_timeout_ms"],
              s.proxy.request_timeout.count());
  CHECK_EQUAL(report["error"], "");
  CHECK_EQUAL(report["finished"], true);
  CHECK_EQUAL(report["results_valid_json"], true);
  CHECK(report["problems"].empty());
  CHECK(report["healthy_missing"].empty());
  CHECK(report["altered"].empty());
  CHECK_EQUAL(report["ok"], true);
  CHECK_EQUAL(summary["ok"], true);
  MESSAGE("the proxy's completeness report was there and matched the truth");
  auto& c = report["completeness"];
  CHECK_EQUAL(c["status_before_stop"], 409);
  CHECK_EQUAL(c["status"], 200);
  CHECK_EQUAL(c["available"], true);
  CHECK_EQUAL(c["phase"], "collected");
  CHECK_EQUAL(c["matches"], true);
}

TEST(every fault kind ends where the retry rules put it) {
  auto want = expected();
  auto& kinds = report["kinds"];
  CHECK_EQUAL(kinds.size(), want.size());
  for (auto& [kind, e] : want) {
    MESSAGE("fault kind " << kind);
    REQUIRE(kinds.contains(kind));
    auto& got = kinds[kind];
    CHECK_EQUAL(at(got, "pods"), e.pods);
    CHECK_EQUAL(at(got, "delivered"), e.delivered);
    CHECK_EQUAL(at(got, "unconfirmed"), e.unconfirmed);
    CHECK_EQUAL(at(got, "failed"), e.failed);
    CHECK_EQUAL(at(got, "collected"), e.collected);
    CHECK_EQUAL(at(got, "collect_failed"), e.collect_failed);
    CHECK_EQUAL(at(got, "delivery_attempts"), e.delivery_attempts);
    CHECK_EQUAL(at(got, "collection_attempts"), e.collection_attempts);
    CHECK_EQUAL(at(got, "duplicate_checks"), e.duplicate_checks);
    MESSAGE("collected pods are in /results with exactly their bytes");
    CHECK_EQUAL(at(got, "in_results"), e.collected);
    CHECK_EQUAL(at(got, "intact"), e.collected);
    CHECK_EQUAL(at(got, "entries_expected"), e.entries_expected);
    CHECK_EQUAL(at(got, "entries_received"), e.entries_received);
    CHECK_EQUAL(at(got, "entries_omitted"), e.entries_omitted);
    CHECK_EQUAL(at(got, "entries_duplicated"), e.entries_duplicated);
    CHECK_EQUAL(at(got, "entries_alien"), e.entries_alien);
  }
  MESSAGE("healthy pods generated results: the check above is not vacuous");
  CHECK_GREATER(at(kinds["none"], "entries_expected"), 0u);
  CHECK_EQUAL(at(kinds["none"], "entries_expected"),
              at(kinds["none"], "pods") * s.connections_per_pod);
}

TEST(the completeness of every fault kind is what its pods reported) {
  auto want = expected();
  auto& c = report["completeness"];
  REQUIRE_EQUAL(c["available"], true);
  auto& kinds = c["kinds"];
  CHECK_EQUAL(kinds.size(), want.size());
  for (auto& [kind, e] : want) {
    REQUIRE(kinds.contains(kind));
    for (auto side : {"truth", "proxy"}) {
      MESSAGE("fault kind " << kind << ", " << side);
      auto& got = kinds[kind][side];
      CHECK_EQUAL(at(got, "expected"), e.tests.expected);
      CHECK_EQUAL(at(got, "reported"), e.tests.reported);
      CHECK_EQUAL(at(got, "missing"), e.tests.missing);
      CHECK_EQUAL(at(got, "duplicates"), e.tests.duplicates);
      CHECK_EQUAL(at(got, "unexpected"), e.tests.unexpected);
      CHECK_EQUAL(at(got, "unknown"), e.tests.unknown);
      CHECK_EQUAL(at(got, "pods_incomplete"), e.tests.pods_incomplete);
    }
    MESSAGE("fault kind " << kind << ": the fleet's own account agrees");
    auto& fleet = report["kinds"][kind];
    if (kind == "partial")
      CHECK_EQUAL(at(kinds[kind]["truth"], "missing"),
                  at(fleet, "entries_omitted"));
    CHECK_EQUAL(at(kinds[kind]["truth"], "duplicates"),
                at(fleet, "entries_duplicated"));
    CHECK_EQUAL(at(kinds[kind]["truth"], "unexpected"),
                at(fleet, "entries_alien"));
  }
  MESSAGE("the reporting faults are in the run: the check is not vacuous");
  for (auto kind : {"partial", "duplicate", "alien"}) {
    REQUIRE(kinds.contains(kind));
    CHECK_GREATER(at(kinds[kind]["truth"], "reported"), 0u);
  }
  CHECK_GREATER(at(kinds["partial"]["truth"], "missing"), 0u);
  CHECK_GREATER(at(kinds["duplicate"]["truth"], "duplicates"), 0u);
  CHECK_GREATER(at(kinds["alien"]["truth"], "unexpected"), 0u);
}

TEST(the completeness totals add up) {
  auto& c = report["completeness"];
  REQUIRE_EQUAL(c["available"], true);
  for (auto side : {"truth", "proxy"}) {
    MESSAGE(side);
    auto& t = c[side];
    CHECK_EQUAL(at(t, "expected"), s.pods * s.connections_per_pod);
    CHECK_EQUAL(at(t, "reported") + at(t, "missing") + at(t, "unknown"),
                at(t, "expected"));
    MESSAGE("pods_total counts the pods with a problem: the incomplete "
            "ones and those with repeats or aliens");
    CHECK_GREATER_OR_EQUAL(at(t, "pods_total"), at(t, "pods_incomplete"));
    CHECK_LESS_OR_EQUAL(at(t, "pods_total"), s.pods);
    MESSAGE("every connection has its own netpol and one test");
    CHECK_EQUAL(at(t, "netpols_incomplete"),
                at(t, "missing") + at(t, "unknown"));
  }
  CHECK_EQUAL(at(c["netpols"], "truth"), s.pods * s.connections_per_pod);
  CHECK_EQUAL(at(c["netpols"], "differing"), 0u);
  MESSAGE("?all=1 lists exactly the pods with a problem");
  CHECK_EQUAL(at(c["pods"], "listed"), at(c["truth"], "pods_total"));
  CHECK_EQUAL(at(c["pods"], "differing"), 0u);
}

TEST(totals add up to the fleet) {
  auto& total = report["total"];
  CHECK_EQUAL(at(total, "pods"), s.pods);
  CHECK_EQUAL(at(total, "delivered") + at(total, "unconfirmed")
                + at(total, "failed"),
              s.pods);
  CHECK_EQUAL(at(total, "collected") + at(total, "collect_failed"), s.pods);
  CHECK_EQUAL(at(total, "delivery_attempts"),
              at(report["delivery"], "calls"));
  CHECK_EQUAL(at(total, "collection_attempts"),
              at(report["collection"], "calls"));
  CHECK_EQUAL(at(report, "calls"), at(total, "delivery_attempts")
                                     + at(total, "collection_attempts"));
  CHECK_EQUAL(at(report, "healthy_intact"), at(report["kinds"]["none"], "pods"));
}

TEST(both phases end within their bound) {
  auto timeout
    = std::chrono::duration<double>(s.proxy.request_timeout).count();
  for (auto phase : {"delivery", "collection"}) {
    MESSAGE(phase);
    auto& p = report[phase];
    CHECK_EQUAL(p["within_bound"], true);
    CHECK_LESS_OR_EQUAL(p["seconds"].get<double>(),
                        p["bound_seconds"].get<double>()
                          + report["bound_slack_seconds"].get<double>());
  }
  MESSAGE("an unconfirmed pod costs one timeout of delivery, a pod that "
          "never answers every attempt's timeout of collection");
  CHECK_GREATER(report["delivery"]["seconds"].get<double>(), timeout * 0.9);
  CHECK_GREATER(report["collection"]["seconds"].get<double>(),
                (s.proxy.retries + 1) * timeout * 0.9);
}

FIXTURE_SCOPE_END()
