#define CAF_SUITE scenario

#include "podsim/json_scan.hpp"
#include "podsim/scenario.hpp"
#include "support/test.hpp"

#include <filesystem>
#include <map>
#include <optional>

using podsim::fault;
using std::chrono::milliseconds;

namespace {

std::optional<podsim::scenario_error> error_of(std::string_view text) {
  try {
    podsim::parse_scenario(text, "t.json");
  } catch (const podsim::scenario_error& e) {
    return e;
  }
  return std::nullopt;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::map<fault, size_t> kinds_of(const std::vector<podsim::pod_spec>& pods) {
  std::map<fault, size_t> out;
  for (auto& pod : pods)
    ++out[pod.profile.kind];
  return out;
}

constexpr std::string_view full = R"({
  "name": "demo",
  "description": "all keys",
  "fleet": {"pods": 200, "first_address": "127.9.0.1", "mode": "shared",
            "port": 0, "threads": 2, "seed": 5, "latency": "2ms",
            "jitter": "1.5s", "connections_per_pod": 4},
  "faults": [
    {"kind": "down", "fraction": 0.05},
    {"kind": "flaky", "count": 3, "failures": 4},
    {"kind": "slow", "fraction": 0.01, "delay": "5s"},
    {"kind": "none", "count": 7, "latency": "300ms", "jitter": "0"},
    {"kind": "crash-after-check", "count": 1}
  ],
  "proxy": {"workers": 40, "connect_timeout": "500ms",
            "request_timeout": "1m30s", "retries": 0, "backoff_base": "0",
            "backoff_cap": "1s", "extra_args": ["--server-threads", "4"]}
})";

} // namespace

TEST(every key is read and fault groups are resolved against the fleet) {
  auto s = podsim::parse_scenario(full, "t.json");
  CHECK_EQUAL(s.name, "demo");
  CHECK_EQUAL(s.description, "all keys");
  CHECK_EQUAL(s.pods, 200u);
  CHECK_EQUAL(s.first_address, "127.9.0.1");
  CHECK(s.mode == podsim::listen_mode::shared);
  CHECK_EQUAL(s.port, 0u);
  CHECK_EQUAL(s.threads, 2u);
  CHECK_EQUAL(s.seed, 5u);
  CHECK_EQUAL(s.latency.count(), 2);
  CHECK_EQUAL(s.jitter.count(), 1500);
  CHECK_EQUAL(s.connections_per_pod, 4u);
  REQUIRE_EQUAL(s.faults.size(), 5u);
  CHECK_EQUAL(s.faults[0].pods, 10u); // 0.05 x 200
  CHECK_EQUAL(s.faults[1].pods, 3u);
  CHECK_EQUAL(s.faults[1].failures, 4);
  CHECK_EQUAL(s.faults[2].pods, 2u); // 0.01 x 200
  CHECK_EQUAL(s.faults[2].delay.count(), 5000);
  CHECK(s.faults[4].kind == fault::crash_after_check);
  CHECK_EQUAL(s.proxy.workers, 40u);
  CHECK_EQUAL(s.proxy.connect_timeout.count(), 500);
  CHECK_EQUAL(s.proxy.request_timeout.count(), 90000);
  CHECK_EQUAL(s.proxy.retries, 0u);
  CHECK_EQUAL(s.proxy.backoff_base.count(), 0);
  CHECK_EQUAL(s.proxy.backoff_cap.count(), 1000);
  REQUIRE_EQUAL(s.proxy.extra_args.size(), 2u);
  CHECK_EQUAL(s.proxy.extra_args[1], "4");
}

TEST(defaults are those of the proxy and of the old command line) {
  auto s = podsim::parse_scenario(R"({"fleet": {"pods": 3}})", "x.json");
  CHECK_EQUAL(s.name, "x.json");
  CHECK_EQUAL(s.first_address, "127.1.0.1");
  CHECK(s.mode == podsim::listen_mode::per_pod);
  CHECK_EQUAL(s.port, 9001u);
  CHECK_EQUAL(s.seed, 1u);
  CHECK_EQUAL(s.connections_per_pod, 3u);
  CHECK(s.faults.empty());
  CHECK_EQUAL(s.proxy.workers, 20u);
  CHECK_EQUAL(s.proxy.connect_timeout.count(), 3000);
  CHECK_EQUAL(s.proxy.request_timeout.count(), 10000);
  CHECK_EQUAL(s.proxy.retries, 3u);
  CHECK_EQUAL(s.proxy.backoff_base.count(), 500);
  CHECK_EQUAL(s.proxy.backoff_cap.count(), 8000);
  auto pods = podsim::place_faults(s);
  REQUIRE_EQUAL(pods.size(), 3u);
  CHECK_EQUAL(pods[2].ip, "127.1.0.3");
}

TEST(placement is deterministic for a seed and carries the group profiles) {
  auto s = podsim::parse_scenario(full, "t.json");
  auto a = podsim::place_faults(s);
  auto b = podsim::place_faults(s);
  REQUIRE_EQUAL(a.size(), 200u);
  CHECK_EQUAL(a.front().ip, "127.9.0.1");
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK_EQUAL(a[i].ip, b[i].ip);
    CHECK(a[i].profile.kind == b[i].profile.kind);
  }
  auto kinds = kinds_of(a);
  CHECK_EQUAL(kinds[fault::down], 10u);
  CHECK_EQUAL(kinds[fault::flaky], 3u);
  CHECK_EQUAL(kinds[fault::slow], 2u);
  CHECK_EQUAL(kinds[fault::crash_after_check], 1u);
  CHECK_EQUAL(kinds[fault::none], 200u - 10 - 3 - 2 - 1);
  size_t slow_node = 0;
  for (auto& pod : a) {
    auto& p = pod.profile;
    if (p.kind == fault::flaky)
      CHECK_EQUAL(p.failures, 4);
    if (p.kind == fault::slow)
      CHECK_EQUAL(p.delay.count(), 5000);
    if (p.kind == fault::none && p.latency.count() == 300) {
      ++slow_node;
      CHECK_EQUAL(p.jitter.count(), 0);
    }
    if (p.kind == fault::down)
      CHECK_EQUAL(p.latency.count(), 2); // the fleet's
  }
  CHECK_EQUAL(slow_node, 7u);
  MESSAGE("another seed places the faults elsewhere");
  s.seed = 6;
  auto c = podsim::place_faults(s);
  size_t moved = 0;
  for (size_t i = 0; i < a.size(); ++i)
    moved += a[i].profile.kind != c[i].profile.kind;
  CHECK_GREATER(moved, 0u);
  auto kinds_c = kinds_of(c);
  CHECK_EQUAL(kinds_c[fault::down], 10u);
}

TEST(durations) {
  using podsim::parse_milliseconds;
  CHECK_EQUAL(parse_milliseconds("0")->count(), 0);
  CHECK_EQUAL(parse_milliseconds("500ms")->count(), 500);
  CHECK_EQUAL(parse_milliseconds("2s")->count(), 2000);
  CHECK_EQUAL(parse_milliseconds("1.5s")->count(), 1500);
  CHECK_EQUAL(parse_milliseconds("1m30s")->count(), 90000);
  CHECK_EQUAL(parse_milliseconds("1h")->count(), 3600000);
  CHECK(!parse_milliseconds(""));
  CHECK(!parse_milliseconds("10"));
  CHECK(!parse_milliseconds("5 s"));
  CHECK(!parse_milliseconds("-1s"));
  CHECK(!parse_milliseconds("1.2.3s"));
  CHECK(!parse_milliseconds("3d"));
  MESSAGE("the proxy's parser (messages/duration.hpp), to the nearest ms");
  CHECK_EQUAL(parse_milliseconds("1.5ms")->count(), 2);
  CHECK_EQUAL(parse_milliseconds("2.5ms")->count(), 3);
  CHECK_EQUAL(parse_milliseconds("1.4999ms")->count(), 1);
  CHECK_EQUAL(parse_milliseconds("1500us")->count(), 2);
  CHECK_EQUAL(parse_milliseconds("400us")->count(), 0);
  CHECK_EQUAL(parse_milliseconds("0.1s0.2s")->count(), 300);
  CHECK_EQUAL(parse_milliseconds("8760h")->count(), 8760LL * 3600 * 1000);
  CHECK(!parse_milliseconds("8761h"));
  CHECK(!parse_milliseconds(std::string(5000, '9') + "s"));
  CHECK_EQUAL(podsim::format_duration(milliseconds(1500)), "1500ms");
  CHECK_EQUAL(podsim::format_duration(milliseconds(2000)), "2s");
}

TEST(a syntax error names line and column) {
  auto e = error_of("{\n  \"fleet\": {\"pods\": 10,}\n}");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "");
  CHECK_EQUAL(e->line(), 2u);
  CHECK_EQUAL(e->column(), 24u); // the "}" after the trailing comma
  CHECK(contains(e->what(), "t.json:2:24: syntax error"));
  e = error_of("");
  REQUIRE(e);
  CHECK(contains(e->what(), "syntax error"));
}

TEST(an unknown fault kind names the key and its line) {
  auto e = error_of(R"({
  "fleet": {"pods": 10},
  "faults": [
    {"kind": "down", "count": 1},
    {"kind": "dwn", "count": 1}
  ]
})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[1].kind");
  CHECK_EQUAL(e->line(), 5u);
  CHECK_EQUAL(e->column(), 14u);
  CHECK(contains(e->what(), "t.json:5:14: faults[1].kind: unknown fault kind "
                            "\"dwn\""));
  CHECK(contains(e->what(), "crash_after_check"));
  CHECK(contains(e->what(), "trickle_headers, endless_header, slow_answer, "
                            "case_variant, too_deep, partial, duplicate, "
                            "alien, restart, vanish, check_unanswered, "
                            "check_lost)"));
}

TEST(the answer and reporting faults take their parameters) {
  auto s = podsim::parse_scenario(R"({
  "fleet": {"pods": 100, "seed": 3},
  "faults": [
    {"kind": "trickle_headers", "count": 2, "interval": "300ms"},
    {"kind": "endless-header", "count": 2},
    {"kind": "slow_answer", "count": 2, "interval": "50ms"},
    {"kind": "case_variant", "count": 2},
    {"kind": "too_deep", "count": 2},
    {"kind": "partial", "count": 2, "test_fraction": 0.25},
    {"kind": "duplicate", "fraction": 0.02},
    {"kind": "alien", "count": 2},
    {"kind": "partial", "count": 1}
  ]
})",
                                  "t.json");
  REQUIRE_EQUAL(s.faults.size(), 9u);
  CHECK_EQUAL(s.faults[0].interval.count(), 300);
  CHECK(s.faults[1].kind == fault::endless_header);
  CHECK_EQUAL(s.faults[2].interval.count(), 50);
  CHECK_EQUAL(s.faults[5].test_fraction, 0.25);
  CHECK_EQUAL(s.faults[6].pods, 2u); // "fraction" is still the fleet's share
  CHECK_EQUAL(s.faults[6].test_fraction, 0.5);
  CHECK_EQUAL(s.faults[8].test_fraction, 0.5);
  auto pods = podsim::place_faults(s);
  auto kinds = kinds_of(pods);
  CHECK_EQUAL(kinds[fault::trickle_headers], 2u);
  CHECK_EQUAL(kinds[fault::too_deep], 2u);
  CHECK_EQUAL(kinds[fault::partial], 3u);
  CHECK_EQUAL(kinds[fault::none], 100u - 17);
  size_t quarter = 0;
  for (auto& pod : pods) {
    auto& p = pod.profile;
    if (p.kind == fault::trickle_headers)
      CHECK_EQUAL(p.interval.count(), 300);
    if (p.kind == fault::slow_answer)
      CHECK_EQUAL(p.interval.count(), 50);
    if (p.kind == fault::partial && p.test_fraction == 0.25)
      ++quarter;
    if (p.kind == fault::duplicate)
      CHECK_EQUAL(p.test_fraction, 0.5);
  }
  CHECK_EQUAL(quarter, 2u);
  MESSAGE("defaults: one byte a second, half of the tests");
  podsim::fault_group defaults;
  CHECK_EQUAL(defaults.interval.count(), 1000);
  CHECK_EQUAL(defaults.test_fraction, 0.5);
}

TEST(pods lost during the job and pods that reveal slowly take their times) {
  auto s = podsim::parse_scenario(R"({
  "fleet": {"pods": 10, "seed": 3, "reveal": "12s"},
  "faults": [
    {"kind": "restart", "count": 2, "after": "7s"},
    {"kind": "vanish", "count": 1},
    {"kind": "none", "count": 3, "reveal": "0"}
  ]
})",
                                  "t.json");
  CHECK_EQUAL(s.reveal.count(), 12000);
  REQUIRE_EQUAL(s.faults.size(), 3u);
  CHECK_EQUAL(s.faults[0].after.count(), 7000);
  CHECK_EQUAL(s.faults[1].after.count(), 2000); // the default
  auto kinds = kinds_of(podsim::place_faults(s));
  CHECK_EQUAL(kinds[fault::restart], 2u);
  CHECK_EQUAL(kinds[fault::vanish], 1u);
  size_t at_once = 0;
  for (auto& pod : podsim::place_faults(s)) {
    if (pod.profile.kind == fault::restart)
      CHECK_EQUAL(pod.profile.after.count(), 7000);
    if (pod.profile.kind == fault::vanish)
      CHECK_EQUAL(pod.profile.after.count(), 2000);
    if (pod.profile.reveal.count() == 0)
      ++at_once;
    else
      CHECK_EQUAL(pod.profile.reveal.count(), 12000);
  }
  CHECK_EQUAL(at_once, 3u);
  MESSAGE("after is for the faults that lose a pod");
  auto e = error_of(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "slow", "count": 1, "after": "1s"}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[0].after");
  CHECK(contains(e->what(), "restart and vanish faults only"));
}

TEST(interval and test_fraction are refused where they do not apply) {
  auto e = error_of(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "slow", "count": 1, "interval": "1s"}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[0].interval");
  CHECK(contains(e->what(), "trickle_headers and slow_answer faults only"));
  e = error_of(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "trickle_headers", "count": 1, "interval": "0"}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[0].interval");
  CHECK(contains(e->what(), "longer than zero"));
  e = error_of(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "alien", "count": 1, "test_fraction": 0.5}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[0].test_fraction");
  CHECK(contains(e->what(), "partial and duplicate faults only"));
  e = error_of(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "partial", "count": 1, "test_fraction": 1.5}]})");
  REQUIRE(e);
  CHECK(contains(e->what(), "must be between 0 and 1, got 1.5"));
  e = error_of(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "duplicate", "count": 1, "test_fraction": "half"}]})");
  REQUIRE(e);
  CHECK(contains(e->what(), "expected a number between 0 and 1"));
  e = error_of(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "partial", "count": 1, "intervall": "1s"}]})");
  REQUIRE(e);
  CHECK(contains(e->what(), "delay, interval, test_fraction, latency"));
}

TEST(fractions over the whole fleet are refused) {
  auto e = error_of(R"({
  "fleet": {"pods": 100},
  "faults": [{"kind": "down", "fraction": 0.6},
             {"kind": "hang", "fraction": 0.5}]
})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults");
  CHECK_EQUAL(e->line(), 3u);
  CHECK(contains(e->what(), "fractions add up to 1.1"));
  MESSAGE("counts and fractions together over the fleet");
  e = error_of(R"({"fleet": {"pods": 10},
                  "faults": [{"kind": "down", "fraction": 0.5},
                             {"kind": "hang", "count": 6}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults");
  CHECK(contains(e->what(), "11 faulty pods but the fleet has 10"));
  MESSAGE("exactly the whole fleet is fine");
  auto s = podsim::parse_scenario(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "down", "fraction": 0.7},
               {"kind": "hang", "fraction": 0.2},
               {"kind": "reset", "fraction": 0.1}]})");
  CHECK_EQUAL(s.faults[0].pods + s.faults[1].pods + s.faults[2].pods, 10u);
}

TEST(negative counts and out of range numbers are refused) {
  auto e = error_of(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "down", "count": -3}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[0].count");
  CHECK_EQUAL(e->line(), 2u);
  CHECK(contains(e->what(), "must not be negative, got -3"));
  e = error_of(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "down", "fraction": 1.5}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[0].fraction");
  CHECK(contains(e->what(), "between 0 and 1"));
  e = error_of(R"({"fleet": {"pods": 0}})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "fleet.pods");
  e = error_of(R"({"fleet": {"pods": 10}, "proxy": {"workers": 5000}})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "proxy.workers");
  CHECK(contains(e->what(), "between 1 and 2000"));
}

TEST(missing keys are named and located at their object) {
  auto e = error_of("{\"name\": \"x\"}");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "fleet");
  CHECK(contains(e->what(), "fleet: missing"));
  e = error_of("{\n  \"fleet\": {\"seed\": 3}\n}");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "fleet.pods");
  CHECK_EQUAL(e->line(), 2u);
  CHECK_EQUAL(e->column(), 12u); // the fleet object
  e = error_of(R"({"fleet": {"pods": 10}, "faults": [{"count": 1}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[0].kind");
  e = error_of(R"({"fleet": {"pods": 10}, "faults": [{"kind": "hang"}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[0].count");
  CHECK(contains(e->what(), "\"count\" (pods) or \"fraction\""));
  e = error_of(R"({"fleet": {"pods": 10},
                  "faults": [{"kind": "hang", "count": 1, "fraction": 0.1}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[0]");
  CHECK(contains(e->what(), "not both"));
}

TEST(wrong types are refused with what was found) {
  auto e = error_of(R"({"fleet": {"pods": "ten"}})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "fleet.pods");
  CHECK(contains(e->what(), "expected an integer, got string \"ten\""));
  e = error_of(R"({"fleet": {"pods": 2.5}})");
  REQUIRE(e);
  CHECK(contains(e->what(), "expected an integer, got number 2.5"));
  e = error_of(R"({"fleet": {"pods": 10}, "faults": {"kind": "down"}})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults");
  CHECK(contains(e->what(), "expected an array"));
  e = error_of(R"({"fleet": {"pods": 10},
                  "faults": [{"kind": "down", "fraction": "0.05"}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[0].fraction");
  CHECK(contains(e->what(), "expected a number"));
  e = error_of(R"({"fleet": {"pods": 10, "latency": 20}})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "fleet.latency");
  CHECK(contains(e->what(), "expected a duration string"));
  e = error_of(R"({"fleet": {"pods": 10, "latency": "20 ms"}})");
  REQUIRE(e);
  CHECK(contains(e->what(), "not a duration"));
  e = error_of(R"({"fleet": {"pods": 10}, "proxy": {"extra_args": [1]}})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "proxy.extra_args[0]");
  e = error_of("[1, 2]");
  REQUIRE(e);
  CHECK(contains(e->what(), "(top level): expected an object"));
}

TEST(unknown keys and misplaced parameters are refused) {
  auto e = error_of(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "slow", "count": 1, "dealy": "5s"}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[0].dealy");
  CHECK(contains(e->what(), "unknown key (expected one of: kind, count"));
  e = error_of(R"({"fleet": {"pods": 10}, "fault": []})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "fault");
  e = error_of(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "hang", "count": 1, "failures": 2}]})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "faults[0].failures");
  CHECK(contains(e->what(), "flaky fault only"));
  e = error_of(R"({"fleet": {"pods": 10},
    "faults": [{"kind": "down", "count": 1, "delay": "1s"}]})");
  REQUIRE(e);
  CHECK(contains(e->what(), "slow fault only"));
}

TEST(fleet and proxy values are checked) {
  auto e = error_of(R"({"fleet": {"pods": 10, "mode": "per-node"}})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "fleet.mode");
  e = error_of(R"({"fleet": {"pods": 10, "first_address": "10.0.0.1"}})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "fleet.first_address");
  CHECK(contains(e->what(), "127.0.0.0/8"));
  e = error_of(
    R"({"fleet": {"pods": 100000, "first_address": "127.255.255.1"}})");
  REQUIRE(e);
  CHECK(contains(e->what(), "would leave 127.0.0.0/8"));
  e = error_of(R"({"fleet": {"pods": 10},
    "proxy": {"backoff_base": "2s", "backoff_cap": "1s"}})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "proxy.backoff_cap");
  e = error_of(R"({"fleet": {"pods": 10}, "proxy": {"request_timeout": "0"}})");
  REQUIRE(e);
  CHECK(contains(e->what(), "longer than zero"));
  e = error_of(R"({"name": "../x", "fleet": {"pods": 10}})");
  REQUIRE(e);
  CHECK_EQUAL(e->key(), "name");
}

TEST(a file that does not exist is named) {
  try {
    podsim::load_scenario("/nonexistent/lab.json");
    CAF_FAIL("no error");
  } catch (const podsim::scenario_error& e) {
    CHECK(contains(e.what(), "/nonexistent/lab.json: cannot read"));
  }
}

TEST(every shipped scenario parses and is named after its file) {
  size_t files = 0;
  for (auto& entry : std::filesystem::directory_iterator(LAB_SCENARIO_DIR)) {
    if (entry.path().extension() != ".json")
      continue;
    ++files;
    MESSAGE(entry.path().string());
    auto s = podsim::load_scenario(entry.path().string());
    CHECK_EQUAL(s.name, entry.path().stem().string());
    CHECK_EQUAL(podsim::place_faults(s).size(), s.pods);
  }
  CHECK_GREATER(files, 5u);
}

TEST(positions of keys in JSON text) {
  using namespace podsim::json_scan;
  std::string_view text = "{\"a\": [1, {\"b\\\"\": 2, \"c\": [3, \"x,]\"]}],\n"
                          " \"d\": {\"e\": true}}";
  CHECK_EQUAL(locate(text, {std::string("a")}), 6u);
  CHECK_EQUAL(locate(text, {std::string("a"), size_t{1}, std::string("c"),
                            size_t{1}}),
              text.find("\"x,]\""));
  MESSAGE("a missing step stops at the deepest value found");
  CHECK_EQUAL(locate(text, {std::string("d"), std::string("zz")}),
              text.find("{\"e\""));
  auto at = line_column(text, text.find("true"));
  CHECK_EQUAL(at.line, 2u);
  CHECK_EQUAL(at.column, 13u);
  CHECK_EQUAL(skip_value(text, 0), text.size());
  CHECK_EQUAL(skip_value("[1, 2", 0), npos);
  CHECK_EQUAL(skip_value("\"open", 0), npos);
  CHECK_EQUAL(skip_value("{\"a\" 1}", 0), npos);
  CHECK_EQUAL(skip_value("[1,]", 0), npos);
  CHECK_EQUAL(skip_value("[{}, [], {\"x\": [{}]}] tail", 0), 21u);
  MESSAGE("any depth, without recursion (too_deep's 10,001 arrays)");
  std::string deep = "{\"a\":" + std::string(20000, '[') + std::string(20000, ']')
                     + ",\"b\":1}";
  CHECK_EQUAL(skip_value(deep, 0), deep.size());
  deep.pop_back();
  CHECK_EQUAL(skip_value(deep, 0), npos);
}

TEST(numbers beyond a double and deep nesting are errors and not crashes) {
  auto huge = error_of(R"({"fleet": {"pods": 1e400}})");
  REQUIRE(huge);
  CHECK(contains(huge->what(), "bad number"));
  auto deep = error_of("{\"fleet\":" + std::string(3000, '[')
                       + std::string(3000, ']') + "}");
  REQUIRE(deep);
  CHECK(contains(deep->what(), "nested deeper than 64 levels"));
}
