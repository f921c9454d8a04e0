#define CAF_SUITE kube_burner_round

#include "proxy_fixture.hpp"
#include "support/test.hpp"

#include <map>

using namespace netpol;
using namespace netpol::test;
using podsim::fault;
using json = nlohmann::json;

namespace {

/// The raw bytes /results holds for `ip`: everything between `"ip":` and the
/// next pod's key (or the closing brace), as the proxy wrote it.
std::string raw_value(const std::string& body, const std::string& ip,
                      size_t size) {
  auto key = "\"" + ip + "\":";
  auto pos = body.find(key);
  if (pos == std::string::npos)
    return {};
  return body.substr(pos + key.size(), size);
}

/// Drives the whole kube-burner sequence and returns the /results body.
std::string run_round(proxy_fixture& fx, const json& initiate) {
  auto cli = fx.client();
  MESSAGE("kube-burner posts the connections");
  auto res = cli.Post("/initiate", initiate.dump(), "application/json");
  REQUIRE(res);
  REQUIRE_EQUAL(res->status, 200);
  MESSAGE("and polls until delivery is done");
  fx.poll_until_done("/checkConnectionsStatus");
  MESSAGE("then stops, and polls until collection is done");
  res = cli.Get("/stop");
  REQUIRE(res);
  REQUIRE_EQUAL(res->status, 200);
  fx.poll_until_done("/checkStopStatus");
  MESSAGE("then reads every result");
  res = cli.Get("/results");
  REQUIRE(res);
  REQUIRE_EQUAL(res->status, 200);
  CHECK_EQUAL(res->get_header_value("Content-Type"), "application/json");
  return res->body;
}

} // namespace

FIXTURE_SCOPE(kube_burner_round_tests, proxy_fixture)

TEST(every healthy pod gets exactly its list and its results pass unchanged) {
  start(pods_with(fault::none, 30, "127.20.0.1"));
  auto initiate = initiate_body(3);
  auto body = run_round(*this, initiate);
  auto results = json::parse(body);
  auto fleet_now = fleet->snapshot();
  CHECK_EQUAL(results.size(), 30u);
  for (auto& pod : fleet_now) {
    CHECK_EQUAL(pod.check_calls, 1u);
    CHECK_EQUAL(pod.duplicate_checks, 0u);
    CHECK(pod.accepted_check);
    CHECK_EQUAL(json::parse(pod.check_body), initiate[pod.ip]);
    CHECK_EQUAL(pod.results_entries, 6u); // 3 connections x 2 ports
    MESSAGE("byte for byte: nine-digit timestamps and connectionidx survive");
    CHECK_EQUAL(raw_value(body, pod.ip, pod.results_body.size()),
                pod.results_body);
    CHECK_EQUAL(results[pod.ip], json::parse(pod.results_body));
    CHECK_EQUAL(results[pod.ip][5]["connectionidx"], 2);
  }
  auto [status, report] = get_json("/status");
  CHECK_EQUAL(status, 200);
  CHECK_EQUAL(report["delivered"], 30);
  CHECK_EQUAL(report["collected"], 30);
  CHECK_EQUAL(report["results_entries"], 180);
  CHECK(report["problems"].empty());
}

TEST(faulty pods are reported and the round still finishes) {
  std::vector<podsim::pod_spec> specs = pods_with(fault::none, 10,
                                                  "127.21.0.1");
  std::map<std::string, fault> faulty;
  auto addresses = podsim::loopback_addresses(9, "127.21.1.1");
  std::vector<fault> kinds{fault::down,      fault::hang,
                           fault::reset,     fault::http_500,
                           fault::flaky,     fault::slow,
                           fault::bad_json,  fault::reject_check,
                           fault::crash_after_check};
  for (size_t i = 0; i < kinds.size(); ++i) {
    podsim::pod_spec spec;
    spec.ip = addresses[i];
    spec.profile.kind = kinds[i];
    spec.profile.failures = 1;
    spec.profile.delay = std::chrono::milliseconds(300);
    specs.push_back(spec);
    faulty[spec.ip] = kinds[i];
  }
  start(specs);
  auto ip_of = [&](fault kind) {
    for (auto& [ip, k] : faulty)
      if (k == kind)
        return ip;
    return std::string{};
  };
  auto initiate = initiate_body(2);
  auto body = run_round(*this, initiate);
  auto results = json::parse(body);
  auto [status, report] = get_json("/status");
  REQUIRE_EQUAL(status, 200);
  MESSAGE("delivery: the hung and resetting pods took the whole request, so "
          "they are unconfirmed; three pods failed");
  CHECK_EQUAL(report["delivered"], 14);   // 10 + flaky, slow, bad_json, crash
  CHECK_EQUAL(report["unconfirmed"], 2);  // hang, reset
  CHECK_EQUAL(report["delivery_failed"], 3); // down, 500, rejected
  MESSAGE("collection: 13 pods answered, 6 could not");
  CHECK_EQUAL(report["collected"], 13);
  CHECK_EQUAL(report["collect_failed"], 6);
  CHECK_EQUAL(results.size(), 13u);
  std::map<std::string, json> problems;
  for (auto& problem : report["problems"])
    problems[problem["pod"]] = problem;
  CHECK_EQUAL(problems.size(), 7u); // all faulty pods but flaky and slow
  CHECK_EQUAL(problems[ip_of(fault::down)]["delivery_error"],
              "connection refused or unreachable");
  CHECK_EQUAL(problems[ip_of(fault::down)]["delivery_attempts"], 3);
  CHECK_EQUAL(problems[ip_of(fault::hang)]["delivery"], "unconfirmed");
  CHECK_EQUAL(problems[ip_of(fault::hang)]["delivery_attempts"], 1);
  CHECK_EQUAL(problems[ip_of(fault::hang)]["delivery_error"],
              "no answer within 1500ms");
  CHECK_EQUAL(problems[ip_of(fault::reset)]["delivery"], "unconfirmed");
  CHECK_EQUAL(problems[ip_of(fault::reset)]["delivery_attempts"], 1);
  CHECK_EQUAL(problems[ip_of(fault::reset)]["delivery_error"],
              "connection reset before an answer");
  CHECK_EQUAL(problems[ip_of(fault::http_500)]["delivery_error"]
                .get<std::string>()
                .rfind("HTTP 500", 0),
              0u);
  CHECK_EQUAL(problems[ip_of(fault::reject_check)]["delivery_attempts"], 1);
  CHECK_EQUAL(problems[ip_of(fault::reject_check)]["delivery_error"]
                .get<std::string>()
                .rfind("HTTP 400", 0),
              0u);
  CHECK_EQUAL(problems[ip_of(fault::bad_json)]["state"], "collect_failed");
  CHECK_EQUAL(problems[ip_of(fault::bad_json)]["collection_error"]
                .get<std::string>()
                .rfind("bad results body", 0),
              0u);
  CHECK_EQUAL(problems[ip_of(fault::crash_after_check)]["delivery"],
              "delivered");
  CHECK_EQUAL(problems[ip_of(fault::crash_after_check)]["state"],
              "collect_failed");
  MESSAGE("every pod that answered has its exact bytes in /results");
  for (auto& pod : fleet->snapshot()) {
    CHECK_EQUAL(pod.duplicate_checks, 0u);
    bool answered = pod.kind == fault::none || pod.kind == fault::flaky
                    || pod.kind == fault::slow
                    || pod.kind == fault::reject_check;
    CHECK_EQUAL(results.contains(pod.ip), answered);
    if (answered)
      CHECK_EQUAL(raw_value(body, pod.ip, pod.results_body.size()),
                  pod.results_body);
    if (pod.kind == fault::none || pod.kind == fault::slow) {
      CHECK_EQUAL(pod.check_calls, 1u);
      CHECK_EQUAL(json::parse(pod.check_body), initiate[pod.ip]);
    }
  }
  MESSAGE("the flaky pod took its list on the second call, once");
  auto pods_now = fleet->snapshot();
  auto& flaky = report_of(pods_now, ip_of(fault::flaky));
  CHECK_EQUAL(flaky.check_calls, 2u);
  CHECK(flaky.accepted_check);
}

TEST(report and status say what each pod reported against what it was sent) {
  auto specs = pods_with(fault::none, 4, "127.23.0.1");
  for (auto kind : {fault::partial, fault::duplicate, fault::alien,
                    fault::down, fault::reject_check}) {
    auto extra = pods_with(kind, 1,
                           "127.23.1." + std::to_string(specs.size() + 1));
    specs.insert(specs.end(), extra.begin(), extra.end());
  }
  start(specs);
  auto initiate = initiate_body(2); // 2 connections x 2 ports: 4 tests a pod
  auto body = run_round(*this, initiate);
  auto [code, report] = get_json("/report?all=1");
  REQUIRE_EQUAL(code, 200);
  auto fleet_now = fleet->snapshot();
  uint64_t omitted = 0, repeated = 0, aliens = 0;
  for (auto& pod : fleet_now) {
    omitted += pod.results_omitted;
    repeated += pod.results_duplicated;
    aliens += pod.results_alien;
  }
  MESSAGE("the fleet left out " << omitted << ", repeated " << repeated
                                << ", invented " << aliens << " entries");
  auto& c = report["completeness"];
  CHECK_EQUAL(c["expected"], 9 * 4);
  CHECK_EQUAL(c["missing"], omitted);
  CHECK_EQUAL(c["duplicates"], repeated);
  CHECK_EQUAL(c["unexpected"], aliens);
  MESSAGE("the down pod was never collected, the rejecting one never took "
          "its list: both unknown, never missing");
  CHECK_EQUAL(c["unknown"], 2 * 4);
  CHECK_EQUAL(c["reported"], 9 * 4 - omitted - 2 * 4);
  CHECK_EQUAL(c["pods_incomplete"], 3);
  std::map<std::string, json> rows;
  for (auto& row : report["pods"])
    rows[row["pod"]] = row;
  CHECK_EQUAL(rows.size(), 5u);
  for (auto& pod : fleet_now) {
    if (pod.kind == fault::none) {
      CHECK_EQUAL(rows.count(pod.ip), 0u);
      continue;
    }
    REQUIRE_EQUAL(rows.count(pod.ip), 1u);
    auto& row = rows[pod.ip];
    CHECK_EQUAL(row["missing"], pod.results_omitted);
    CHECK_EQUAL(row["duplicates"], pod.results_duplicated);
    CHECK_EQUAL(row["unexpected"], pod.results_alien);
  }
  MESSAGE("netpols worst first: those the partial pod left out lead");
  auto& netpols = report["netpols"];
  REQUIRE(!netpols.empty());
  CHECK_GREATER(netpols[0]["missing"].get<int>(), 0);
  CHECK_EQUAL(report["netpols_total"], netpols.size());
  CHECK_EQUAL(report["curve"]["succeeded"].back(), c["reported"]);
  MESSAGE("/status carries the same totals");
  auto status = get_json("/status").second;
  CHECK_EQUAL(status["completeness"], c);
  MESSAGE("and /results is still every pod's bytes as sent");
  for (auto& pod : fleet_now)
    if (pod.kind == fault::partial || pod.kind == fault::duplicate
        || pod.kind == fault::alien)
      CHECK_EQUAL(raw_value(body, pod.ip, pod.results_body.size()),
                  pod.results_body);
}

TEST(IPv6 pod addresses are bracketed and reach the pod) {
  // One client pod on [::1] at a free port, answering like the real one.
  httplib::Server pod;
  std::string received;
  std::string host_header;
  pod.Post("/check", [&](const httplib::Request& req, httplib::Response& res) {
    received = req.body;
    host_header = req.get_header_value("Host");
    res.set_content("ok\n", "text/plain");
  });
  pod.Get("/results", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"([{"address":"::1","port":8080,"connectionidx":0,)"
                    R"("npname":"v6","timestamp":"2024-10-01T11:18:33.1Z"}])",
                    "application/json");
  });
  auto pod_port = pod.bind_to_any_port("::1");
  if (pod_port <= 0) {
    MESSAGE("no IPv6 loopback on this machine: nothing to test");
    return;
  }
  std::thread pod_thread{[&] { pod.listen_after_bind(); }};
  options.settings.client_port = static_cast<uint16_t>(pod_port);
  start_proxy();
  json initiate = {{"::1", {{{"addresses", {"fd00::1"}},
                             {"ports", {8080}},
                             {"netpol", "v6"}}}}};
  auto body = run_round(*this, initiate);
  pod.stop();
  pod_thread.join();
  CHECK_EQUAL(json::parse(received), initiate["::1"]);
  CHECK_EQUAL(host_header, "[::1]:" + std::to_string(pod_port));
  auto results = json::parse(body);
  CHECK_EQUAL(results["::1"][0]["npname"], "v6");
}

FIXTURE_SCOPE_END()
