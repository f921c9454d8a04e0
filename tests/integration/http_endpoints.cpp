#define CAF_SUITE http_endpoints

#include "proxy_fixture.hpp"
#include "support/test.hpp"

using namespace netpol;
using namespace netpol::test;
using podsim::fault;
using json = nlohmann::json;

namespace {

struct fixture : proxy_fixture {
  /// Round number and phase, to prove a refused request changed nothing.
  std::pair<int, std::string> round_and_phase() {
    auto [status, report] = get_json("/status");
    REQUIRE_EQUAL(status, 200);
    return {report["round"].get<int>(), report["phase"].get<std::string>()};
  }

  /// Sends a request and checks its status and JSON error code.
  void expect_refusal(const char* method, const std::string& path,
                      const std::string& body, int status,
                      const std::string& code) {
    auto cli = client();
    httplib::Request req;
    req.method = method;
    req.path = path;
    req.body = body;
    if (!body.empty())
      req.set_header("Content-Type", "application/json");
    auto res = cli.send(req);
    REQUIRE(res);
    CHECK_EQUAL(res->status, status);
    CHECK_EQUAL(res->get_header_value("Content-Type"), "application/json");
    auto j = json::parse(res->body);
    CHECK_EQUAL(j["error"], code);
    CHECK(!j["message"].get<std::string>().empty());
  }
};

} // namespace

FIXTURE_SCOPE(http_endpoints_tests, fixture)

TEST(before a round status is false and stop and results answer 409) {
  start(pods_with(fault::none, 2, "127.22.0.1"));
  auto [status, body] = get_json("/checkConnectionsStatus");
  CHECK_EQUAL(status, 200);
  CHECK_EQUAL(body["result"], false);
  auto stop_status = get_json("/checkStopStatus").second;
  CHECK_EQUAL(stop_status["result"], false);
  expect_refusal("GET", "/stop", "", 409, "no_round");
  expect_refusal("POST", "/stop", "", 409, "no_round");
  expect_refusal("GET", "/results", "", 409, "results_not_ready");
  CHECK_EQUAL(round_and_phase(), std::make_pair(0, std::string{"idle"}));
  CHECK_EQUAL(get_json("/healthz").first, 200);
  auto ready = get_json("/readyz").second;
  CHECK_EQUAL(ready["phase"], "idle");
}

TEST(bad initiate bodies get 400 or 413 and change nothing) {
  start(pods_with(fault::none, 2, "127.22.1.1"));
  expect_refusal("POST", "/initiate", "{not json", 400, "bad_input");
  expect_refusal("POST", "/initiate", "[]", 400, "bad_input");
  expect_refusal("POST", "/initiate", R"({"pod-1":[]})", 400, "bad_input");
  expect_refusal("POST", "/initiate",
                 R"({"127.22.1.1":[{"addresses":[],"ports":[70000],"netpol":"n"}]})",
                 400, "bad_input");
  expect_refusal("POST", "/initiate", std::string(options.bridge.front.max_body_bytes + 1, ' '),
                 413, "too_large");
  CHECK_EQUAL(round_and_phase(), std::make_pair(0, std::string{"idle"}));
  CHECK(fleet->snapshot()[0].check_calls == 0);
  MESSAGE("the error names the offending key");
  auto cli = client();
  auto res = cli.Post("/initiate", R"({"127.22.1.1":[], "10.0.0.x":[]})",
                      "application/json");
  REQUIRE(res);
  CHECK_EQUAL(res->status, 400);
  CHECK_NOT_EQUAL(res->body.find("10.0.0.x"), std::string::npos);
}

TEST(wrong methods get 405 with Allow and unknown paths 404) {
  start(pods_with(fault::none, 1, "127.22.2.1"));
  expect_refusal("GET", "/initiate", "", 405, "method_not_allowed");
  expect_refusal("DELETE", "/stop", "", 405, "method_not_allowed");
  expect_refusal("PUT", "/results", "x", 405, "method_not_allowed");
  expect_refusal("POST", "/checkConnectionsStatus", "{}", 405,
                 "method_not_allowed");
  expect_refusal("GET", "/nowhere", "", 404, "not_found");
  expect_refusal("POST", "/initiate/extra", "{}", 404, "not_found");
  auto cli = client();
  auto res = cli.Get("/initiate");
  REQUIRE(res);
  CHECK_EQUAL(res->get_header_value("Allow"), "POST");
  MESSAGE("query strings are ignored where they mean nothing");
  CHECK_EQUAL(get_json("/checkConnectionsStatus?verbose=1").first, 200);
  CHECK_EQUAL(round_and_phase(), std::make_pair(0, std::string{"idle"}));
}

TEST(a re-run against a leftover round reads only its own round) {
  auto first = pods_with(fault::none, 3, "127.22.3.1");
  auto second = pods_with(fault::none, 2, "127.22.4.1");
  auto all = first;
  all.insert(all.end(), second.begin(), second.end());
  start(all);
  auto cli = client();
  MESSAGE("the body is JSON whatever the content type (curl sends a form "
          "type by default)");
  auto padded = initiate_body_for(first) + std::string(16 * 1024, ' ');
  auto res = cli.Post("/initiate", padded, "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK_EQUAL(res->status, 200);
  poll_until_done("/checkConnectionsStatus");
  expect_refusal("GET", "/results", "", 409, "results_not_ready");
  MESSAGE("round A is delivered and its kube-burner is gone; the same body "
          "again changes nothing");
  CHECK_EQUAL(http_status(cli.Post("/initiate", padded, "application/json")),
              200);
  CHECK_EQUAL(round_and_phase(), std::make_pair(1, std::string{"delivered"}));
  MESSAGE("a new kube-burner run posts round B: A is superseded");
  res = cli.Post("/initiate", initiate_body_for(second), "application/json");
  REQUIRE(res);
  CHECK_EQUAL(res->status, 200);
  auto b = poll_until_done("/checkConnectionsStatus");
  CHECK_EQUAL(b["round"], 2);
  CHECK_EQUAL(b["pods"], 2);
  auto report = get_json("/status").second;
  REQUIRE_EQUAL(report["superseded"].size(), 1u);
  CHECK_EQUAL(report["superseded"][0]["round"], 1);
  CHECK_EQUAL(report["superseded"][0]["phase"], "delivered");
  res = cli.Post("/stop", "", "application/json");
  REQUIRE(res);
  CHECK_EQUAL(res->status, 200);
  poll_until_done("/checkStopStatus");
  MESSAGE("a second stop is harmless");
  CHECK_EQUAL(http_status(cli.Get("/stop")), 200);
  MESSAGE("/results holds round B's pods only");
  auto results = json::parse(cli.Get("/results")->body);
  CHECK_EQUAL(results.size(), 2u);
  CHECK(results.contains(second[0].ip));
  CHECK(!results.contains(first[0].ip));
  for (auto& pod : fleet->snapshot())
    CHECK_EQUAL(pod.check_calls, 1u);
  MESSAGE("/metrics counts both rounds' calls");
  auto metrics = cli.Get("/metrics");
  REQUIRE(metrics);
  CHECK_EQUAL(metrics->status, 200);
  CHECK_NOT_EQUAL(metrics->body.find("netpol_proxy_rounds_total 2\n"),
                  std::string::npos);
  CHECK_NOT_EQUAL(
    metrics->body.find("netpol_proxy_pod_calls_total{outcome=\"ok\","
                       "stage=\"delivery\"} 5\n"),
    std::string::npos);
  CHECK_NOT_EQUAL(metrics->body.find("netpol_proxy_pods{state=\"collected\"} 2\n"),
                  std::string::npos);
  MESSAGE("per-pod detail on request");
  report = get_json("/status?pods=1").second;
  CHECK_EQUAL(report["pod_details"].size(), 2u);
}

TEST(report before collection and with bad parameters gets a clear error) {
  start(pods_with(fault::none, 1, "127.22.9.1"));
  expect_refusal("GET", "/report", "", 409, "results_not_ready");
  auto cli = client();
  REQUIRE_EQUAL(http_status(cli.Post("/initiate", initiate_body(1).dump(),
                                     "application/json")),
                200);
  poll_until_done("/checkConnectionsStatus");
  expect_refusal("GET", "/report", "", 409, "results_not_ready");
  REQUIRE_EQUAL(http_status(cli.Get("/stop")), 200);
  poll_until_done("/checkStopStatus");
  expect_refusal("GET", "/report?all=garbage", "", 400, "bad_input");
  expect_refusal("GET", "/report?netpols=-1", "", 400, "bad_input");
  CHECK_EQUAL(get_json("/report?all=1&netpols=1").first, 200);
}

TEST(a refused initiate ends the wait of kube-burner with an answer it cannot decode) {
  options.bridge.max_pods = 2;
  start(pods_with(fault::none, 3, "127.22.10.1"));
  auto cli = client();
  MESSAGE("kube-burner ignores the 413 and polls");
  auto res = cli.Post("/initiate", initiate_body(1).dump(), "application/json");
  REQUIRE(res);
  CHECK_EQUAL(res->status, 413);
  for (auto path : {"/checkConnectionsStatus", "/checkStopStatus"}) {
    auto poll = cli.Get(path);
    REQUIRE(poll);
    auto j = json::parse(poll->body);
    MESSAGE(path << ": " << poll->body);
    MESSAGE("\"result\" is not a boolean: Go's decoder refuses the answer");
    CHECK(!j["result"].is_boolean());
    CHECK_EQUAL(j["error"], "initiate_refused");
    auto message = j["message"].get<std::string>();
    CHECK_NOT_EQUAL(message.find("--max-pods"), std::string::npos);
    CHECK_NOT_EQUAL(message.find("log"), std::string::npos);
  }
  MESSAGE("its /stop is refused too, so it never reads an old round");
  expect_refusal("GET", "/stop", "", 409, "initiate_refused");
  auto status = get_json("/status").second;
  CHECK_EQUAL(status["last_refusal"]["http_status"], 413);
  CHECK(status["last_refusal"]["pending"].get<bool>());
  MESSAGE("a valid /initiate starts a round and clears it");
  auto two = pods_with(fault::none, 2, "127.22.10.1");
  REQUIRE_EQUAL(http_status(cli.Post("/initiate", initiate_body_for(two),
                                     "application/json")),
                200);
  auto done = poll_until_done("/checkConnectionsStatus");
  CHECK_EQUAL(done["round"], 1);
  auto after = get_json("/status").second;
  CHECK(!after["last_refusal"]["pending"].get<bool>());
}

FIXTURE_SCOPE_END()
