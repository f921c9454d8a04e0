#define CAF_SUITE hostile_input

#include "proxy_fixture.hpp"
#include "support/test.hpp"

#include <atomic>
#include <map>

using namespace netpol;
using namespace netpol::test;
using namespace std::chrono_literals;
using podsim::fault;
using json = nlohmann::json;

namespace {

/// A client pod that misbehaves in ways the simulated fleet does not: one
/// httplib server on its own 127.x address, at the port all pods share.
struct hostile_pod {
  std::string ip;
  httplib::Server server;
  std::thread thread;

  ~hostile_pod() {
    server.stop();
    if (thread.joinable())
      thread.join();
  }

  int bind(int port) {
    if (port == 0)
      return server.bind_to_any_port(ip);
    return server.bind_to_port(ip, port) ? port : -1;
  }

  void run() {
    thread = std::thread{[this] { server.listen_after_bind(); }};
  }
};

void answer_check(hostile_pod& pod) {
  pod.server.Post("/check", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
}

struct fixture : proxy_fixture {
  json report() {
    auto [status, body] = get_json("/status");
    REQUIRE_EQUAL(status, 200);
    return body;
  }

  /// The parts of /status a refused request must not change.
  json round_state() {
    auto r = report();
    return json{{"round", r["round"]}, {"phase", r["phase"]},
                {"pods", r["pods"]}, {"states", r["states"]}};
  }

  int status_of(const char* method, const std::string& path,
                const std::string& body = {}) {
    auto cli = client();
    httplib::Request req;
    req.method = method;
    req.path = path;
    req.body = body;
    auto res = cli.send(req);
    REQUIRE(res);
    return res->status;
  }
};

} // namespace

FIXTURE_SCOPE(hostile_input_tests, fixture)

TEST(a truncated body is refused and changes nothing) {
  start(pods_with(fault::none, 1, "127.30.0.1"));
  auto before = round_state();
  raw_connection conn{port};
  conn.send("POST /initiate HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
            "Content-Type: application/json\r\n\r\n{\"127.30.0.1\": [");
  conn.finish_sending();
  auto answer = conn.receive_all();
  MESSAGE("the proxy answers 400 or just closes; never a new round");
  CHECK(answer.empty() || answer.rfind("HTTP/1.1 400", 0) == 0);
  CHECK_EQUAL(round_state(), before);
  auto pods_now = fleet->snapshot();
  CHECK_EQUAL(pods_now[0].check_calls, 0u);
}

TEST(huge headers and request lines are refused and the proxy carries on) {
  start(pods_with(fault::none, 1, "127.30.1.1"));
  auto before = round_state();
  {
    raw_connection conn{port};
    conn.send("GET /status HTTP/1.1\r\nHost: x\r\nX-Big: "
              + std::string(200 * 1024, 'a') + "\r\n\r\n");
    auto answer = conn.receive_response();
    CHECK(answer.empty() || answer.rfind("HTTP/1.1 4", 0) == 0);
  }
  {
    raw_connection conn{port};
    conn.send("GET /" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\n\r\n");
    auto answer = conn.receive_response();
    CHECK(answer.empty() || answer.rfind("HTTP/1.1 4", 0) == 0);
  }
  {
    raw_connection conn{port};
    conn.send("NONSENSE\r\n\r\n");
    auto answer = conn.receive_response();
    CHECK(answer.empty() || answer.rfind("HTTP/1.1 400", 0) == 0);
  }
  CHECK_EQUAL(round_state(), before);
}

TEST(a slow loris is cut at the header deadline while everyone is served) {
  options.bridge.front.header_timeout = 1s;
  start(pods_with(fault::none, 1, "127.30.2.1"));
  raw_connection loris{port};
  std::atomic<bool> done{false};
  std::atomic<bool> cut{false};
  std::thread dribble{[&] {
    // A byte every 100 ms: each read is quick, the request never ends.
    std::string request = "POST /initiate HTTP/1.1\r\nHost: x\r\nX-Pad: "
                          + std::string(200, 'a');
    for (size_t i = 0; i < request.size() && !done; ++i) {
      if (!loris.send(request.substr(i, 1))) {
        cut = true;
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
  }};
  MESSAGE("status polls keep being answered meanwhile");
  int answered = 0;
  for (int i = 0; i < 10; ++i) {
    if (get_json("/checkConnectionsStatus").first == 200)
      ++answered;
    std::this_thread::sleep_for(50ms);
  }
  CHECK_EQUAL(answered, 10);
  MESSAGE("at --header-timeout the loris gets 408 and the connection ends, "
          "though it never paused");
  auto rest = loris.receive_all();
  CHECK_EQUAL(rest.rfind("HTTP/1.1 408", 0), 0u);
  CHECK_NOT_EQUAL(rest.find("--header-timeout"), std::string::npos);
  done = true;
  dribble.join();
  auto after = report();
  CHECK_EQUAL(after["round"], 0);
}

TEST(many concurrent status polls are all answered) {
  options.bridge.front.operator_threads = 8;
  start(pods_with(fault::none, 3, "127.30.3.1"));
  auto cli = client();
  REQUIRE_EQUAL(http_status(cli.Post("/initiate", initiate_body(1).dump(),
                                     "application/json")),
                200);
  std::atomic<int> ok{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> pollers;
  for (int t = 0; t < 32; ++t)
    pollers.emplace_back([&] {
      auto c = client();
      for (int i = 0; i < 50; ++i) {
        auto res = c.Get("/checkConnectionsStatus");
        if (res && res->status == 200
            && json::parse(res->body).contains("result"))
          ++ok;
        else
          ++bad;
      }
    });
  for (auto& poller : pollers)
    poller.join();
  CHECK_EQUAL(ok.load(), 32 * 50);
  CHECK_EQUAL(bad.load(), 0);
  poll_until_done("/checkConnectionsStatus");
  auto after = report();
  CHECK_EQUAL(after["delivered"], 3);
}

TEST(stop results report and initiate answer right in every phase) {
  auto specs = pods_with(fault::none, 2, "127.30.4.1");
  auto hung = pods_with(fault::hang, 1, "127.30.4.10");
  auto next = pods_with(fault::none, 1, "127.30.4.20");
  specs.insert(specs.end(), hung.begin(), hung.end());
  auto first_round = specs;
  specs.insert(specs.end(), next.begin(), next.end());
  start(specs);
  auto body = initiate_body_for(first_round);
  MESSAGE("idle");
  CHECK_EQUAL(status_of("GET", "/results"), 409);
  CHECK_EQUAL(status_of("GET", "/stop"), 409);
  CHECK_EQUAL(status_of("GET", "/report"), 409);
  CHECK_EQUAL(status_of("POST", "/initiate", body), 200);
  MESSAGE("delivering: the hung pod keeps delivery open for a deadline");
  auto before = round_state();
  CHECK_EQUAL(before["phase"], "delivering");
  CHECK_EQUAL(status_of("GET", "/results"), 409);
  CHECK_EQUAL(status_of("GET", "/report"), 409);
  MESSAGE("the same body again (a retried POST) changes nothing");
  CHECK_EQUAL(status_of("POST", "/initiate", body), 200);
  auto again = round_state();
  CHECK_EQUAL(again["round"], before["round"]);
  CHECK_EQUAL(again["pods"], before["pods"]);
  CHECK_EQUAL(report()["superseded"].is_null(), true);
  poll_until_done("/checkConnectionsStatus");
  MESSAGE("delivered");
  CHECK_EQUAL(status_of("GET", "/results"), 409);
  CHECK_EQUAL(status_of("GET", "/stop"), 200);
  MESSAGE("collecting: the hung pod keeps collection open");
  auto collecting = report();
  CHECK_EQUAL(collecting["phase"], "collecting");
  CHECK_EQUAL(status_of("GET", "/results"), 409);
  CHECK_EQUAL(status_of("GET", "/report"), 200);
  CHECK_EQUAL(status_of("POST", "/initiate", body), 200);
  auto still = report();
  CHECK_EQUAL(still["round"], 1);
  CHECK_EQUAL(status_of("POST", "/stop"), 200);
  poll_until_done("/checkStopStatus");
  MESSAGE("collected");
  CHECK_EQUAL(status_of("GET", "/results"), 200);
  CHECK_EQUAL(status_of("GET", "/stop"), 200);
  CHECK_EQUAL(status_of("GET", "/report"), 200);
  auto collected = report();
  CHECK_EQUAL(collected["round"], 1);
  CHECK_EQUAL(status_of("POST", "/initiate", initiate_body_for(next)), 200);
  auto next_round = report();
  CHECK_EQUAL(next_round["round"], 2);
  for (auto& pod : fleet->snapshot())
    CHECK_EQUAL(pod.duplicate_checks, 0u);
}

TEST(hostile pods get clear reasons and never break the round) {
  options.settings.max_response_bytes = 64 * 1024;
  std::map<std::string, std::unique_ptr<hostile_pod>> pods;
  auto add = [&](const std::string& name, const std::string& ip) {
    auto pod = std::make_unique<hostile_pod>();
    pod->ip = ip;
    auto& ref = *pod;
    pods[name] = std::move(pod);
    return &ref;
  };
  MESSAGE("endless: /results streams for ever");
  std::atomic<bool> stopping{false};
  auto endless = add("endless", "127.30.5.1");
  answer_check(*endless);
  endless->server.Get("/results", [&](const httplib::Request&,
                                      httplib::Response& res) {
    res.set_chunked_content_provider(
      "application/json", [&](size_t, httplib::DataSink& sink) {
        std::string chunk = "[" + std::string(16 * 1024, ' ');
        return !stopping && sink.write(chunk.data(), chunk.size());
      });
  });
  MESSAGE("oversized: a valid array bigger than --max-response");
  auto oversized = add("oversized", "127.30.5.2");
  answer_check(*oversized);
  std::string big = "[";
  while (big.size() < 200 * 1024)
    big += R"({"address":"10.0.0.1","port":80,"connectionidx":0},)";
  big.back() = ']';
  oversized->server.Get("/results", [&](const httplib::Request&,
                                        httplib::Response& res) {
    res.set_content(big, "application/json");
  });
  MESSAGE("html: valid results sent as text/html");
  auto html = add("html", "127.30.5.3");
  answer_check(*html);
  const std::string html_body
    = R"([{"address":"10.0.0.1","port":80,"connectionidx":0,"npname":"n",)"
      R"("timestamp":"2024-10-01T11:18:33.247061614Z"}])";
  html->server.Get("/results", [&](const httplib::Request&,
                                   httplib::Response& res) {
    res.set_content(html_body, "text/html");
  });
  MESSAGE("redirect: every call answers 302 elsewhere");
  auto redirect = add("redirect", "127.30.5.4");
  auto moved = [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("http://127.30.5.99:1/elsewhere");
  };
  redirect->server.Post("/check", moved);
  redirect->server.Get("/results", moved);
  MESSAGE("latin1: results with bytes that are not UTF-8 (Go's decoder "
          "takes them, as U+FFFD)");
  auto latin1 = add("latin1", "127.30.5.5");
  answer_check(*latin1);
  latin1->server.Get("/results", [](const httplib::Request&,
                                     httplib::Response& res) {
    res.set_content("[{\"npname\":\"caf\xe9\"}]", "application/json");
  });
  int pod_port = 0;
  for (auto& [name, pod] : pods) {
    pod_port = pod->bind(pod_port);
    REQUIRE(pod_port > 0);
    pod->run();
  }
  options.settings.client_port = static_cast<uint16_t>(pod_port);
  start_proxy();
  json initiate = json::object();
  for (auto& [name, pod] : pods)
    initiate[pod->ip] = json::array();
  auto cli = client();
  REQUIRE_EQUAL(
    http_status(cli.Post("/initiate", initiate.dump(), "application/json")),
    200);
  poll_until_done("/checkConnectionsStatus");
  REQUIRE_EQUAL(http_status(cli.Get("/stop")), 200);
  poll_until_done("/checkStopStatus");
  stopping = true;
  auto results_body = cli.Get("/results")->body;
  auto has_pod = [&](const std::string& ip) {
    return results_body.find("\"" + ip + "\":") != std::string::npos;
  };
  std::map<std::string, json> problems;
  auto final_report = report();
  for (auto& problem : final_report["problems"])
    problems[problem["pod"]] = problem;
  auto ip = [&](const char* name) { return pods[name]->ip; };
  CHECK_EQUAL(problems[ip("endless")]["collection_error"],
              "answer larger than 65536 bytes");
  CHECK_EQUAL(problems[ip("oversized")]["collection_error"],
              "answer larger than 65536 bytes");
  MESSAGE("the body is what counts, not its content type");
  CHECK(!problems.count(ip("html")));
  CHECK_NOT_EQUAL(results_body.find("\"" + ip("html") + "\":" + html_body),
                  std::string::npos);
  MESSAGE("redirects are not followed: a 3xx is a failed call, not retried");
  CHECK_EQUAL(problems[ip("redirect")]["delivery"], "failed");
  CHECK_EQUAL(problems[ip("redirect")]["delivery_attempts"], 1);
  CHECK_EQUAL(problems[ip("redirect")]["delivery_error"].get<std::string>()
                .rfind("HTTP 302", 0),
              0u);
  MESSAGE("latin1's bytes reach /results exactly as sent");
  CHECK(!problems.count(ip("latin1")));
  CHECK_NOT_EQUAL(results_body.find("\"" + ip("latin1")
                                    + "\":[{\"npname\":\"caf\xe9\"}]"),
                  std::string::npos);
  CHECK(has_pod(ip("html")));
  CHECK(!has_pod(ip("endless")));
  CHECK(!has_pod(ip("oversized")));
  CHECK(!has_pod(ip("redirect")));
}

FIXTURE_SCOPE_END()
