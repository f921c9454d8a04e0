#define CAF_SUITE lab_report

#include "lab/bounds.hpp"
#include "lab/report.hpp"
#include "lab/svg.hpp"
#include "support/test.hpp"

#include <cmath>

using namespace netpol::lab;
using json = nlohmann::json;
using podsim::fault;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool near(double a, double b) {
  return std::fabs(a - b) < 1e-9;
}

bool any_problem(const scenario_report& r, const std::string& part) {
  for (auto& p : r.problems)
    if (contains(p.what, part))
      return true;
  return false;
}

std::string entry(const std::string& address, int idx, const char* np,
                  const char* stamp) {
  return "{\"address\":\"" + address + "\",\"port\":8080,\"connectionidx\":"
         + std::to_string(idx) + ",\"npname\":\"" + np
         + "\",\"timestamp\":\"2024-10-01T11:18:33." + stamp + "Z\"}";
}

std::string results_of(const std::string& peer, const char* stamp) {
  return "[{\"address\":\"" + peer
         + "\",\"port\":8080,\"connectionidx\":0,\"npname\":\"p\","
           "\"timestamp\":\"2024-10-01T11:18:33."
         + stamp + "Z\"}]\n";
}

std::string connections_of(const std::string& peer) {
  return "[{\"addresses\":[\"" + peer
         + "\"],\"ports\":[8080],\"netpol\":\"p\"}]";
}

/// A finished round of three pods, as the runner would have recorded it:
/// two healthy pods collected, one bad_json pod whose collection failed.
struct round_fixture {
  podsim::scenario s;
  run_result run;
  json details = json::array();

  round_fixture() {
    s.name = "unit";
    s.pods = 3;
    s.proxy.workers = 2;
    s.proxy.connect_timeout = std::chrono::milliseconds(500);
    s.proxy.request_timeout = std::chrono::milliseconds(1000);
    s.proxy.retries = 2;
    s.proxy.backoff_base = std::chrono::milliseconds(50);
    s.proxy.backoff_cap = std::chrono::milliseconds(200);
    add("127.0.0.1", fault::none, "247061614", "collected", 1);
    add("127.0.0.2", fault::none, "000000001", "collected", 1);
    add("127.0.0.3", fault::bad_json, "123456789", "collect_failed", 3);
    // The proxy validated bad_json's body and left it out.
    run.initiate_body = "{\"127.0.0.1\":" + connections_of("127.0.0.2")
                        + ",\"127.0.0.2\":" + connections_of("127.0.0.3")
                        + ",\"127.0.0.3\":" + connections_of("127.0.0.1")
                        + "}\n";
    run.results_body = "{\"127.0.0.1\":" + run.fleet[0].results_body
                       + ",\"127.0.0.2\":" + run.fleet[1].results_body
                       + "}\n";
    run.delivery_done = run.collection_done = run.have_results = true;
    run.wall_seconds = 2;
    refresh_status(0.4, 0.9);
    // The completeness report a correct proxy gives for this round: three
    // tests of netpol "p", two reported, bad_json's one unknown.
    proxy_report = json{
      {"round", 1},
      {"phase", "collected"},
      {"completeness",
       {{"expected", 3}, {"reported", 2}, {"missing", 0}, {"duplicates", 0},
        {"unexpected", 0}, {"unknown", 1}, {"pods_incomplete", 1},
        {"netpols_incomplete", 1}}},
      {"netpols",
       json::array({{{"name", "p"},
                     {"expected", 3},
                     {"reported", 2},
                     {"missing", 0},
                     {"unknown", 1},
                     {"pods_missing", 0},
                     {"first_success", "2024-10-01T11:18:33.000000001Z"},
                     {"last_success", "2024-10-01T11:18:33.247061614Z"}}})},
      {"pods_total", 3},
      {"pods", json::array()},
      {"curve",
       {{"start", "2024-10-01T11:18:33.000000001Z"},
        {"bucket_seconds", 1},
        {"succeeded", json::array({2})}}}};
    add_row("127.0.0.1", "collected", 1, 1, 0, 0, 0, 0);
    add_row("127.0.0.2", "collected", 1, 1, 0, 0, 0, 0);
    add_row("127.0.0.3", "collect_failed", 1, 0, 0, 0, 0, 1);
    run.report_early_status = 409;
    run.report_status = 200;
    refresh_report();
  }

  json proxy_report;

  void add_row(const std::string& ip, const char* state, uint64_t expected,
               uint64_t reported, uint64_t missing, uint64_t duplicates,
               uint64_t unexpected, uint64_t unknown) {
    proxy_report["pods"].push_back({{"pod", ip},
                              {"state", state},
                              {"expected", expected},
                              {"reported", reported},
                              {"missing", missing},
                              {"duplicates", duplicates},
                              {"unexpected", unexpected},
                              {"unknown", unknown}});
  }

  void refresh_report() {
    run.report_body = proxy_report.dump();
  }

  void add(const std::string& ip, fault kind, const char* stamp,
           const char* state, uint32_t collection_attempts) {
    podsim::pod_report pod;
    pod.ip = ip;
    pod.kind = kind;
    pod.check_calls = 1;
    pod.accepted_check = true;
    auto peer = ip == "127.0.0.1" ? "127.0.0.2"
                                  : ip == "127.0.0.2" ? "127.0.0.3"
                                                      : "127.0.0.1";
    pod.check_body = connections_of(peer);
    pod.results_body = results_of(peer, stamp);
    if (kind == fault::bad_json)
      pod.results_body.resize(pod.results_body.size() / 2);
    pod.results_entries = 1;
    run.fleet.push_back(pod);
    details.push_back({{"pod", ip},
                       {"state", state},
                       {"delivery", "delivered"},
                       {"delivery_attempts", 1},
                       {"collection_attempts", collection_attempts},
                       {"delivered_after_ms", 100.0 * run.fleet.size()}});
  }

  void refresh_status(double delivery_seconds, double collection_seconds) {
    run.status = json{{"calls", 8},
                      {"retries", 2},
                      {"worker_restarts", 0},
                      {"delivery_seconds", delivery_seconds},
                      {"collection_seconds", collection_seconds},
                      {"pod_details", details}};
  }

  scenario_report report() const {
    return analyse(s, "unit.json", run);
  }
};

} // namespace

TEST(bounds follow the backoff rule of the proxy) {
  podsim::proxy_config p;
  p.workers = 10;
  p.connect_timeout = std::chrono::milliseconds(500);
  p.request_timeout = std::chrono::milliseconds(1000);
  p.retries = 2;
  p.backoff_base = std::chrono::milliseconds(50);
  p.backoff_cap = std::chrono::milliseconds(200);
  auto b = phase_bound(p, 25);
  CHECK(near(b.call_seconds, 1.5));
  CHECK(near(b.pod_seconds, 3 * 1.5 + 0.05 + 0.1));
  CHECK(near(b.phase_seconds, 3 * 1.5 + b.pod_seconds)); // ceil(25/10) = 3
  MESSAGE("backoffs double up to the cap");
  p.retries = 5;
  b = phase_bound(p, 0);
  CHECK(near(b.pod_seconds, 6 * 1.5 + 0.05 + 0.1 + 0.2 + 0.2 + 0.2));
  CHECK(near(b.phase_seconds, b.pod_seconds));
  MESSAGE("the worst case: every pod uses every attempt");
  p.retries = 2;
  CHECK(near(worst_case_bound(p, 200).phase_seconds,
             60 * 1.5 + phase_bound(p, 0).pod_seconds));
}

FIXTURE_SCOPE(lab_report_tests, round_fixture)

TEST(an intact round is ok and counted per fault kind) {
  auto r = report();
  CHECK(r.ok());
  CHECK(r.problems.empty());
  CHECK(r.results_valid_json);
  CHECK_EQUAL(r.healthy, 2u);
  CHECK_EQUAL(r.healthy_intact, 2u);
  REQUIRE_EQUAL(r.kinds.size(), 2u);
  CHECK(r.kinds[0].first == fault::none);
  auto& none = r.kinds[0].second;
  CHECK_EQUAL(none.pods, 2u);
  CHECK_EQUAL(none.delivered, 2u);
  CHECK_EQUAL(none.collected, 2u);
  CHECK_EQUAL(none.in_results, 2u);
  CHECK_EQUAL(none.intact, 2u);
  CHECK_EQUAL(none.entries_expected, 2u);
  CHECK_EQUAL(none.entries_received, 2u);
  auto& bad = r.kinds[1].second;
  CHECK(r.kinds[1].first == fault::bad_json);
  CHECK_EQUAL(bad.collect_failed, 1u);
  CHECK_EQUAL(bad.collection_attempts, 3u);
  CHECK_EQUAL(bad.entries_expected, 1u);
  CHECK_EQUAL(bad.entries_received, 0u);
  CHECK_EQUAL(r.total.pods, 3u);
  CHECK_EQUAL(r.delivery.calls, 3u);
  CHECK_EQUAL(r.collection.calls, 5u);
  CHECK(r.delivery.within);
  CHECK(r.collection.within);
  MESSAGE("healthy pods got their lists after 0.1 s and 0.2 s");
  CHECK(near(r.healthy_delivered_p50, 0.1));
  CHECK(near(r.healthy_delivered_p99, 0.2));
  CHECK(near(r.healthy_delivered_max, 0.2));
  auto summary = summary_json({r});
  CHECK_EQUAL(summary["ok"], true);
  CHECK_EQUAL(summary["scenarios"][0]["kinds"]["none"]["intact"], 2);
  CHECK_EQUAL(summary["scenarios"][0]["kinds"]["bad_json"]["collect_failed"],
              1);
  auto md = markdown_section(r);
  CHECK(contains(md, "| none | 2 | 2 | 0 | 0 | 2 | 0 | 2 | 2 | 2 / 2 | 0 |"));
  CHECK(contains(md, "| **all** | 3 |"));
  CHECK(contains(md, "verdict: ok"));
}

TEST(one altered digit of a timestamp is caught and named) {
  auto& body = run.results_body;
  auto at = body.find("33.000000001Z");
  REQUIRE(at != std::string::npos);
  body[at + 11] = '2';
  auto r = report();
  CHECK(!r.ok());
  REQUIRE_EQUAL(r.problems.size(), 1u);
  CHECK_EQUAL(r.problems[0].pod, "127.0.0.2");
  CHECK(contains(r.problems[0].what, "results altered"));
  CHECK_EQUAL(r.healthy_intact, 1u);
  auto summary = summary_json({r});
  CHECK_EQUAL(summary["ok"], false);
  CHECK_EQUAL(summary["scenarios"][0]["altered"], json::array({"127.0.0.2"}));
}

TEST(a healthy pod missing from results is named with its state) {
  run.results_body = "{\"127.0.0.1\":" + run.fleet[0].results_body + "}\n";
  details[1]["state"] = "collect_failed";
  details[1]["collection_error"] = "connection refused or unreachable";
  refresh_status(0.4, 0.9);
  // The proxy's completeness report agrees: that pod's test is unknown.
  auto& totals = proxy_report["completeness"];
  totals["reported"] = 1;
  totals["unknown"] = 2;
  totals["pods_incomplete"] = 2;
  proxy_report["netpols"][0]["reported"] = 1;
  proxy_report["netpols"][0]["unknown"] = 2;
  proxy_report["netpols"][0]["first_success"] = "2024-10-01T11:18:33.247061614Z";
  proxy_report["pods"][1] = {{"pod", "127.0.0.2"}, {"state", "collect_failed"},
                       {"expected", 1},      {"reported", 0},
                       {"missing", 0},       {"duplicates", 0},
                       {"unexpected", 0},    {"unknown", 1}};
  refresh_report();
  auto r = report();
  CHECK(!r.ok());
  REQUIRE_EQUAL(r.problems.size(), 1u);
  CHECK_EQUAL(r.problems[0].pod, "127.0.0.2");
  CHECK(contains(r.problems[0].what, "results missing (state collect_failed"));
  CHECK(contains(r.problems[0].what, "connection refused"));
  auto summary = summary_json({r});
  CHECK_EQUAL(summary["scenarios"][0]["healthy_missing"],
              json::array({"127.0.0.2"}));
}

TEST(results that kube-burner could not decode fail the round) {
  // The bad_json pod's truncated body passed through.
  run.results_body.pop_back(); // "\n"
  run.results_body.pop_back(); // "}"
  run.results_body += ",\"127.0.0.3\":" + run.fleet[2].results_body + "}\n";
  auto r = report();
  CHECK(!r.results_valid_json);
  CHECK(!r.ok());
  CHECK(contains(markdown_section(r), "not valid JSON"));
}

TEST(a second check to a healthy pod is a problem) {
  run.fleet[0].duplicate_checks = 1;
  auto r = report();
  CHECK(!r.ok());
  REQUIRE_EQUAL(r.problems.size(), 1u);
  CHECK(contains(r.problems[0].what, "got /check 1 more time"));
}

TEST(a changed connection list is a problem) {
  run.fleet[1].check_body = connections_of("127.0.0.9");
  auto r = report();
  CHECK(!r.ok());
  CHECK(contains(r.problems[0].what, "differs from the one in /initiate"));
  MESSAGE("the lab counts the pod's tests from the list it took: the entry "
          "it reports for 127.0.0.3 matches none of them");
  CHECK(any_problem(r, "completeness: proxy expected 1, reported 1, missing "
                       "0, duplicates 0, unexpected 0, unknown 0; truth "
                       "expected 1, reported 0, missing 1, duplicates 0, "
                       "unexpected 1, unknown 0"));
}

TEST(a second check to any pod is a problem) {
  run.fleet[2].duplicate_checks = 2;
  auto r = report();
  CHECK(!r.ok());
  REQUIRE_EQUAL(r.problems.size(), 1u);
  CHECK_EQUAL(r.problems[0].kind, "bad_json");
  CHECK(contains(r.problems[0].what, "got /check 2 more time"));
  CHECK_EQUAL(r.kinds[1].second.duplicate_checks, 2u);
}

TEST(the completeness report is compared with the count of the lab) {
  auto r = report();
  REQUIRE(r.ok());
  auto& c = r.completeness;
  CHECK(c.available);
  CHECK(c.matches());
  CHECK_EQUAL(c.status_before_stop, 409);
  CHECK_EQUAL(c.truth.expected, 3u);
  CHECK_EQUAL(c.truth.reported, 2u);
  CHECK_EQUAL(c.truth.unknown, 1u);
  CHECK_EQUAL(c.truth.pods_incomplete, 1u);
  CHECK_EQUAL(c.truth_netpols, 1u);
  CHECK_EQUAL(c.truth_netpols_incomplete, 1u);
  REQUIRE_EQUAL(c.kinds.size(), 2u);
  CHECK(c.kinds[1].fault == fault::bad_json);
  CHECK_EQUAL(c.kinds[1].truth.unknown, 1u);
  CHECK(c.kinds[1].proxy == c.kinds[1].truth);
  auto md = markdown_section(r);
  CHECK(contains(md, "| none | 2 / 2 | 2 / 2 | 0 / 0 | 0 / 0 | 0 / 0 | "
                     "0 / 0 | 0 / 0 |"));
  CHECK(contains(md, "| bad_json | 1 / 1 | 0 / 0 | 0 / 0 | 0 / 0 | 0 / 0 | "
                     "1 / 1 | 1 / 1 |"));
  CHECK(contains(md, "matches the truth"));
  auto summary = summary_json({r})["scenarios"][0]["completeness"];
  CHECK_EQUAL(summary["matches"], true);
  CHECK_EQUAL(summary["truth"]["unknown"], 1);
  CHECK_EQUAL(summary["proxy"]["netpols_incomplete"], 1);
  CHECK_EQUAL(summary["kinds"]["bad_json"]["proxy"]["unknown"], 1);
  CHECK_EQUAL(summary["kinds"]["none"]["truth"]["reported"], 2);
}

TEST(a completeness figure that differs fails the round and names it) {
  proxy_report["pods"][0]["reported"] = 0;
  proxy_report["pods"][0]["missing"] = 1;
  refresh_report();
  auto r = report();
  CHECK(!r.ok());
  CHECK(!r.completeness.matches());
  CHECK_EQUAL(r.completeness.pods_differing, 1u);
  CHECK(any_problem(r, "completeness: proxy expected 1, reported 0, missing "
                       "1"));
  CHECK(any_problem(r, "none pods differ: proxy expected 2, reported 1, "
                       "missing 1"));
  CHECK(contains(markdown_section(r), "**1 / 2**"));
  auto summary = summary_json({r})["scenarios"][0]["completeness"];
  CHECK_EQUAL(summary["kinds"]["none"]["matches"], false);
  MESSAGE("totals and netpols are checked on their own");
  proxy_report["pods"][0]["reported"] = 1;
  proxy_report["pods"][0]["missing"] = 0;
  proxy_report["completeness"]["unknown"] = 0;
  proxy_report["netpols"][0]["pods_missing"] = 1;
  refresh_report();
  r = report();
  CHECK(!r.ok());
  CHECK(any_problem(r, "completeness: totals differ: proxy expected 3, "
                       "reported 2, missing 0, duplicates 0, unexpected 0, "
                       "unknown 0"));
  CHECK(any_problem(r, "1 netpols differ from the truth (p: proxy"));
  CHECK_EQUAL(r.completeness.netpols_differing, 1u);
}

TEST(a missing or malformed completeness report fails the round) {
  run.report_status = 404;
  run.report_body = "Not Found";
  auto r = report();
  CHECK(!r.ok());
  CHECK(!r.completeness.available);
  CHECK(any_problem(r, "GET /report?all=1 after collection answered HTTP "
                       "404"));
  CHECK(contains(markdown_section(r), "| none | - / 2 |"));
  run.report_status = 200;
  proxy_report["pods"][2].erase("unknown");
  refresh_report();
  r = report();
  CHECK(!r.ok());
  CHECK(any_problem(r, "the row of pod \"127.0.0.3\" lacks unknown"));
  MESSAGE("before /stop it must answer 409");
  proxy_report["pods"][2]["unknown"] = 1;
  refresh_report();
  run.report_early_status = 200;
  r = report();
  CHECK(!r.ok());
  REQUIRE_EQUAL(r.problems.size(), 1u);
  CHECK(contains(r.problems[0].what, "before /stop answered HTTP 200, "
                                     "expected 409"));
  MESSAGE("every pod with a problem must be listed with ?all=1");
  run.report_early_status = 409;
  proxy_report["pods"].erase(2);
  proxy_report["pods_total"] = 2;
  refresh_report();
  r = report();
  CHECK(!r.ok());
  CHECK(any_problem(r, "not listed in /report?all=1"));
  MESSAGE("a complete pod may be left out");
  proxy_report["pods"].erase(1);
  add_row("127.0.0.3", "collect_failed", 1, 0, 0, 0, 0, 1);
  proxy_report["pods_total"] = 2;
  refresh_report();
  r = report();
  CHECK(r.ok());
}

TEST(partial duplicate and alien reports are counted test by test) {
  // Pod 1 (partial) was sent two tests and reports one; pod 2 (duplicate)
  // reports its test twice; pod 3 (alien) reports its test and one from a
  // connection it does not have.
  run.fleet[0].kind = fault::partial;
  run.fleet[0].check_body = "[{\"addresses\":[\"127.0.0.2\",\"127.0.0.3\"],"
                            "\"ports\":[8080],\"netpol\":\"p\"}]";
  run.fleet[0].results_body = "[" + entry("127.0.0.2", 0, "p", "100000000")
                              + "]\n";
  run.fleet[1].kind = fault::duplicate;
  auto dup = entry("127.0.0.3", 0, "p", "200000000");
  run.fleet[1].results_body = "[" + dup + "," + dup + "]\n";
  run.fleet[2].kind = fault::alien;
  run.fleet[2].results_body = "[" + entry("127.0.0.1", 0, "p", "300000000")
                              + "," + entry("127.0.0.1", 1, "p", "400000000")
                              + "]\n";
  run.initiate_body = "{\"127.0.0.1\":" + run.fleet[0].check_body
                      + ",\"127.0.0.2\":" + connections_of("127.0.0.3")
                      + ",\"127.0.0.3\":" + connections_of("127.0.0.1")
                      + "}\n";
  run.results_body = "{\"127.0.0.1\":" + run.fleet[0].results_body
                     + ",\"127.0.0.2\":" + run.fleet[1].results_body
                     + ",\"127.0.0.3\":" + run.fleet[2].results_body + "}\n";
  details[2]["state"] = "collected";
  details[2]["collection_attempts"] = 1;
  refresh_status(0.4, 0.9);
  proxy_report["completeness"] = {{"expected", 4},        {"reported", 3},
                            {"missing", 1},         {"duplicates", 1},
                            {"unexpected", 1},      {"unknown", 0},
                            {"pods_incomplete", 1}, {"netpols_incomplete", 1}};
  proxy_report["netpols"][0] = {{"name", "p"},
                          {"expected", 4},
                          {"reported", 3},
                          {"missing", 1},
                          {"unknown", 0},
                          {"pods_missing", 1},
                          {"first_success", "2024-10-01T11:18:33.100000000Z"},
                          {"last_success", "2024-10-01T11:18:33.300000000Z"}};
  proxy_report["pods"] = json::array();
  add_row("127.0.0.1", "collected", 2, 1, 1, 0, 0, 0);
  add_row("127.0.0.2", "collected", 1, 1, 0, 1, 0, 0);
  add_row("127.0.0.3", "collected", 1, 1, 0, 0, 1, 0);
  refresh_report();
  auto r = report();
  CHECK(r.problems.empty());
  for (auto& p : r.problems)
    MESSAGE(p.pod << ": " << p.what);
  CHECK(r.ok());
  auto& c = r.completeness;
  REQUIRE_EQUAL(c.kinds.size(), 3u);
  CHECK(c.kinds[0].fault == fault::partial);
  CHECK_EQUAL(c.kinds[0].truth.missing, 1u);
  CHECK_EQUAL(c.kinds[0].truth.pods_incomplete, 1u);
  CHECK(c.kinds[1].fault == fault::duplicate);
  CHECK_EQUAL(c.kinds[1].truth.duplicates, 1u);
  CHECK_EQUAL(c.kinds[1].truth.reported, 1u);
  CHECK(c.kinds[2].fault == fault::alien);
  CHECK_EQUAL(c.kinds[2].truth.unexpected, 1u);
  CHECK_EQUAL(c.kinds[2].truth.missing, 0u);
  MESSAGE("a proxy that counted the duplicate as reported twice is caught");
  proxy_report["pods"][1]["reported"] = 2;
  proxy_report["pods"][1]["duplicates"] = 0;
  refresh_report();
  r = report();
  CHECK(!r.ok());
  CHECK(any_problem(r, "duplicate pods differ: proxy expected 1, reported 2, "
                       "missing 0, duplicates 0"));
}

TEST(results kube-burner cannot decode are caught even when nlohmann can) {
  // A case_variant body: "PORT" lands in connTest's port field.
  run.fleet[1].kind = fault::case_variant;
  run.fleet[1].results_body
    = "[{\"address\":\"127.0.0.3\",\"port\":8080,\"PORT\":\"eighty\","
      "\"connectionidx\":0,\"npname\":\"p\",\"timestamp\":"
      "\"2024-10-01T11:18:33.000000001Z\"}]\n";
  run.results_body = "{\"127.0.0.1\":" + run.fleet[0].results_body
                     + ",\"127.0.0.2\":" + run.fleet[1].results_body + "}\n";
  auto r = report();
  CHECK(r.results_valid_json);
  CHECK(!r.ok());
  REQUIRE(!r.problems.empty());
  CHECK_EQUAL(r.problems[0].pod, "127.0.0.2");
  CHECK_EQUAL(r.problems[0].kind, "case_variant");
  CHECK(contains(r.problems[0].what, "kube-burner could not decode /results: "
                                     "an entry has \"PORT\": \"eighty\""));
  MESSAGE("a too_deep body: one member 10,001 arrays deep");
  run.fleet[1].kind = fault::too_deep;
  run.fleet[1].results_body = "[{\"address\":\"127.0.0.3\",\"port\":8080,"
                              "\"connectionidx\":0,\"npname\":\"p\","
                              "\"timestamp\":\"2024-10-01T11:18:33."
                              "000000001Z\",\"nested\":"
                              + std::string(podsim::too_deep_arrays, '[')
                              + std::string(podsim::too_deep_arrays, ']')
                              + "}]\n";
  run.results_body = "{\"127.0.0.1\":" + run.fleet[0].results_body
                     + ",\"127.0.0.2\":" + run.fleet[1].results_body + "}\n";
  r = report();
  CHECK(!r.ok());
  REQUIRE(!r.problems.empty());
  CHECK_EQUAL(r.problems[0].kind, "too_deep");
  CHECK(contains(r.problems[0].what, "nested 10004 levels deep in /results"));
}

TEST(a pod whose state disagrees with results is a problem) {
  details[2]["state"] = "collected";
  refresh_status(0.4, 0.9);
  auto r = report();
  CHECK(!r.ok());
  CHECK(any_problem(r, "state collected in /status, but the pod is not in "
                       "/results"));
}

TEST(a phase over its bound fails the round) {
  auto bound = phase_bound(s.proxy, 5).phase_seconds;
  refresh_status(0.4, bound + bound_slack_seconds + 0.1);
  auto r = report();
  CHECK(r.delivery.within);
  CHECK(!r.collection.within);
  CHECK(!r.ok());
  CHECK(contains(markdown_section(r), "**no**"));
}

TEST(an unfinished round is not ok) {
  run.collection_done = false;
  run.have_results = false;
  run.results_body.clear();
  run.error = "collection did not finish within 40s";
  auto r = report();
  CHECK(!r.ok());
  CHECK(!r.finished);
  CHECK(contains(markdown_overview({r}), "FAIL: collection did not finish"));
  CHECK(!r.completeness.available);
  CHECK(contains(markdown_section(r), "completeness report unavailable: the "
                                      "round did not finish"));
}

FIXTURE_SCOPE_END()

TEST(the chart has axes and a legend and one band per state seen) {
  std::vector<sample> samples;
  for (int i = 0; i <= 10; ++i) {
    sample x;
    x.seconds = i * 0.1;
    x.states.assign(9, 0);
    x.states[0] = static_cast<uint32_t>(10 - i);          // queued
    x.states[2] = static_cast<uint32_t>(i);               // delivered
    x.waiting_retry = i % 2;
    samples.push_back(x);
  }
  auto svg = state_chart("t & <x>", samples, 0.8, 10);
  CHECK(contains(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(contains(svg, "t &amp; &lt;x&gt;"));
  CHECK(contains(svg, "seconds since POST /initiate"));
  CHECK(contains(svg, ">pods</text>"));
  CHECK(contains(svg, "GET /stop"));
  CHECK(contains(svg, "<title>queued</title>"));
  CHECK(contains(svg, "<title>delivered</title>"));
  CHECK(!contains(svg, "<title>collected</title>")); // never seen: no band
  CHECK(contains(svg, ">collect_failed</text>"));    // but in the legend
  CHECK(contains(svg, "waiting to retry"));
  CHECK(contains(svg, "</svg>"));
  CHECK(contains(state_chart("empty", {}, -1, 5), "no /status samples"));
}
