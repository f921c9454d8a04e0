#define CAF_SUITE client_service

#include "client/client_service.hpp"

#include "client/routes.hpp"
#include "client/simulated_prober.hpp"
#include "support/test.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

using namespace netpol::client;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using wall = std::chrono::system_clock;
using nlohmann::json;

namespace {

constexpr std::string_view two_connections
  = R"([{"addresses":["10.0.0.1","10.0.0.2"],"ports":[8080],"netpol":"a"},)"
    R"({"addresses":["10.0.0.1"],"ports":[8080],"netpol":"b"}])";

struct fixture {
  fixture() {
    spdlog::set_level(spdlog::level::off);
  }

  endpoint_answer call(std::string_view method, std::string_view path,
                       std::string_view body = {}) {
    return route(service, request_view{method, path, body}, now);
  }

  json status() {
    return json::parse(call("GET", "/status").body);
  }

  /// Runs the scheduler until the current probe of `target` exists.
  probe_id probe_of(const std::string& target) {
    service.scheduler()->run(now);
    return probes.last_of(target);
  }

  steady::time_point now = steady::time_point{} + 1h;
  wall::time_point wall0 = wall::time_point{} + 1'700'000'000s;
  test::simulated_prober probes;
  client_service service{schedule_settings{}, 4, probes,
                         "netpol-client test"};
};

} // namespace

FIXTURE_SCOPE(client_service_tests, fixture)

TEST(before a list there is nothing to report and status says so) {
  auto results = call("GET", "/results");
  CHECK_EQUAL(results.status, 200u);
  CHECK_EQUAL(results.body, "[]\n");
  auto s = status();
  CHECK_EQUAL(s["list_taken"], false);
  CHECK_EQUAL(s["version"], "netpol-client test");
  CHECK(!s.contains("list_sha256"));
  CHECK_EQUAL(service.scheduler(), nullptr);
}

TEST(the list is taken once and the same body again changes nothing) {
  auto first = call("POST", "/check", two_connections);
  CHECK_EQUAL(first.status, 200u);
  CHECK_EQUAL(first.body, "Check Request received, processing...\n");
  REQUIRE(service.scheduler());
  auto s = status();
  CHECK_EQUAL(s["list_taken"], true);
  CHECK_EQUAL(s["connections"], 2);
  CHECK_EQUAL(s["tests"], 3);
  CHECK_EQUAL(s["targets"], 2);
  CHECK_EQUAL(s["tests_pending"], 3);
  CHECK_EQUAL(s["list_sha256"], sha256_hex(two_connections));
  MESSAGE("the digest is the body's SHA-256, so a proxy can compare it with "
          "what it sent");
  CHECK_EQUAL(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto* scheduler = service.scheduler();
  MESSAGE("the same list again, even spaced otherwise: 200, nothing changes");
  std::string respaced{two_connections};
  respaced.insert(1, "\n  ");
  auto again = call("POST", "/check", respaced);
  CHECK_EQUAL(again.status, 200u);
  CHECK_EQUAL(service.scheduler(), scheduler);
  auto after = status();
  CHECK_EQUAL(after["tests"], 3);
  CHECK_EQUAL(after["checks_repeated"], 1);
  CHECK_EQUAL(after["list_sha256"], sha256_hex(two_connections));
}

TEST(another list is refused and nothing is appended) {
  call("POST", "/check", two_connections);
  auto other = call("POST", "/check",
                    R"([{"addresses":["10.0.0.9"],"ports":[80],"netpol":"z"}])");
  CHECK_EQUAL(other.status, 409u);
  CHECK(other.body.find(sha256_hex(two_connections)) != std::string::npos);
  auto s = status();
  CHECK_EQUAL(s["tests"], 3);
  CHECK_EQUAL(s["checks_refused"], 1);
  service.scheduler()->run(now + 1s);
  CHECK(probes.probes_of("10.0.0.9:80").empty());
}

TEST(a body that does not parse is refused and takes nothing) {
  auto bad = call("POST", "/check", R"([{"addresses":"10.0.0.1"}])");
  CHECK_EQUAL(bad.status, 400u);
  CHECK(bad.body.find("\"addresses\" must be an array of strings")
        != std::string::npos);
  auto s = status();
  CHECK_EQUAL(s["list_taken"], false);
  CHECK_EQUAL(s["checks_unparsed"], 1);
  MESSAGE("a good list after it is taken");
  CHECK_EQUAL(call("POST", "/check", two_connections).status, 200u);
}

TEST(results grow in the order of the successes with each test once) {
  call("POST", "/check", two_connections);
  auto shared = probe_of("10.0.0.1:8080"); // tests 0 and 2
  now += 100ms; // half the default interval: the second target's turn
  auto other = probe_of("10.0.0.2:8080");
  REQUIRE(other != 0);
  probes.connect(other);
  probes.succeed(other, wall0 + 1ms);
  auto first = call("GET", "/results").body;
  auto one = json::parse(first);
  REQUIRE_EQUAL(one.size(), 1u);
  CHECK_EQUAL(one[0]["address"], "10.0.0.2");
  CHECK_EQUAL(one[0]["connectionidx"], 0);
  CHECK_EQUAL(one[0]["timestamp"], "2023-11-14T22:13:20.001Z");
  MESSAGE("one success of a shared target reports both of its tests, in "
          "list order, at the same instant");
  probes.connect(shared);
  probes.succeed(shared, wall0 + 2ms);
  auto second = call("GET", "/results").body;
  auto all = json::parse(second);
  REQUIRE_EQUAL(all.size(), 3u);
  CHECK_EQUAL(all[1]["npname"], "a");
  CHECK_EQUAL(all[2]["npname"], "b");
  CHECK_EQUAL(all[2]["connectionidx"], 1);
  CHECK_EQUAL(all[1]["timestamp"], all[2]["timestamp"]);
  CHECK_EQUAL(second.compare(0, first.size() - 2, first, 0, first.size() - 2),
              0);
  auto s = status();
  CHECK_EQUAL(s["tests_succeeded"], 3);
  CHECK_EQUAL(s["tests_pending"], 0);
  CHECK_EQUAL(s["first_success"], "2023-11-14T22:13:20.001Z");
  CHECK_EQUAL(s["probe_outcomes"]["succeeded"], 2);
  CHECK(service.all_succeeded());
  MESSAGE("read again, the answer is the same");
  CHECK_EQUAL(call("GET", "/results").body, second);
}

TEST(probe outcomes and the interval are in status) {
  call("POST", "/check", two_connections);
  auto p = probe_of("10.0.0.1:8080");
  probes.fail(p, probe_failure::refused);
  auto s = status();
  CHECK_EQUAL(s["probes_sent"], 1);
  CHECK_EQUAL(s["probe_outcomes"]["refused"], 1);
  CHECK_EQUAL(s["interval_ms"], 200.0);
  CHECK_EQUAL(s["effective_interval_ms"], 200.0);
  CHECK_EQUAL(s["max_probes_per_second"], 500);
  CHECK(service.progress_line().find("0 of 3 tests succeeded")
        != std::string::npos);
}

TEST(a list of more tests than the cap is refused and takes nothing) {
  auto five = call("POST", "/check",
                   R"([{"addresses":["10.0.0.1","10.0.0.2","10.0.0.3"],)"
                   R"("ports":[80,81],"netpol":"a"}])");
  CHECK_EQUAL(five.status, 400u);
  CHECK(five.body.find("more than 4 tests") != std::string::npos);
  auto s = status();
  CHECK_EQUAL(s["list_taken"], false);
  MESSAGE("the count is taken before anything is expanded: a short body "
          "naming billions of tests is refused at once");
  std::string addresses, ports;
  for (int i = 1; i <= 200; ++i) {
    addresses += (i > 1 ? "," : "") + std::string{"\"10.0.0."} + std::to_string(i) + "\"";
    ports += (i > 1 ? "," : "") + std::to_string(i);
  }
  std::string conn = "{\"addresses\":[" + addresses + "],\"ports\":[" + ports + "]}";
  std::string body = "[" + conn;
  for (int i = 0; i < 99; ++i)
    body += "," + conn;
  body += "]";
  auto parsed = parse_check_body(body, default_max_tests);
  REQUIRE(!parsed.list);
  CHECK(parsed.error.find("more than 100000 tests") != std::string::npos);
  MESSAGE("within the cap, taken");
  CHECK_EQUAL(call("POST", "/check", two_connections).status, 200u);
}

TEST(routes: methods and paths) {
  CHECK_EQUAL(call("GET", "/check").status, 405u);
  CHECK_EQUAL(call("POST", "/results").status, 405u);
  CHECK_EQUAL(call("DELETE", "/status").status, 405u);
  CHECK_EQUAL(call("GET", "/").status, 404u);
  CHECK_EQUAL(call("HEAD", "/results").status, 200u);
  CHECK_EQUAL(call("GET", "/results").content_type, "application/json");
}

FIXTURE_SCOPE_END()
