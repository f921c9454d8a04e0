#define CAF_SUITE http_front

#include "proxy_fixture.hpp"
#include "support/test.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <regex>

using namespace netpol;
using namespace netpol::test;
using namespace std::chrono_literals;
using podsim::fault;
using json = nlohmann::json;

namespace {

/// Connections that hold the proxy's front without ever finishing a
/// request: `idle` ones send nothing, `slow` ones send a request header a
/// byte every 500 ms from one thread.
class crowd {
public:
  crowd(uint16_t port, size_t idle, size_t slow) {
    for (size_t i = 0; i < idle + slow; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
          != 0) {
        ::close(fd);
        continue;
      }
      (i < idle ? idle_ : slow_).push_back(fd);
    }
    trickler_ = std::thread{[this] {
      static const std::string head = "GET /status HTTP/1.1\r\nHost: x\r\n"
                                      "X-Slow: "
                                      + std::string(500, 'a');
      for (size_t byte = 0; !done_ && byte < head.size(); ++byte) {
        for (int fd : slow_)
          ::send(fd, head.data() + byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        for (int i = 0; i < 10 && !done_; ++i)
          std::this_thread::sleep_for(50ms);
      }
    }};
  }

  ~crowd() {
    done_ = true;
    trickler_.join();
    for (int fd : idle_)
      ::close(fd);
    for (int fd : slow_)
      ::close(fd);
  }

  size_t size() const {
    return idle_.size() + slow_.size();
  }

private:
  std::vector<int> idle_;
  std::vector<int> slow_;
  std::atomic<bool> done_{false};
  std::thread trickler_;
};

/// The value of an unlabelled sample in /metrics, or -1.
double metric(const std::string& text, const std::string& name) {
  std::regex line{"\n" + name + " ([0-9.e+]+)\n"};
  std::smatch m;
  if (!std::regex_search(text, m, line))
    return -1;
  return std::stod(m[1]);
}

struct fixture : proxy_fixture {
  std::string metrics_text() {
    auto cli = client();
    auto res = cli.Get("/metrics");
    REQUIRE(res);
    return "\n" + res->body;
  }

  /// The parts of /status a refused request must not change.
  json round_state() {
    auto [status, r] = get_json("/status");
    REQUIRE_EQUAL(status, 200);
    json state = json::object();
    for (auto key : {"round", "phase", "pods", "states"})
      state[key] = r[key];
    return state;
  }

  int round_number() {
    return round_state()["round"].get<int>();
  }
};

} // namespace

FIXTURE_SCOPE(http_front_tests, fixture)

TEST(a round completes while 500 idle and 500 slow connections are open) {
  auto specs = pods_with(fault::none, 40, "127.31.0.1");
  for (auto& spec : specs)
    spec.profile.latency = 50ms; // phases of a few hundred milliseconds
  start(specs);
  crowd held{port, 500, 500};
  MESSAGE(held.size() << " connections open and unfinished");
  REQUIRE_EQUAL(held.size(), 1000u);
  auto open = metric(metrics_text(), "netpol_proxy_http_connections");
  CHECK_GREATER(open, 1000.0 - 1);
  // A bound per poll only to end a hung test: kube-burner's own polls have
  // none.
  auto poller = [this] {
    httplib::Client cli{"127.0.0.1", port};
    cli.set_connection_timeout(5s);
    cli.set_read_timeout(5s);
    return cli;
  };
  auto cli = poller();
  auto res = cli.Post("/initiate", initiate_body(2).dump(), "application/json");
  REQUIRE_EQUAL(http_status(res), 200);
  int polls = 0;
  int answered = 0;
  auto poll = [&](const char* path) {
    for (;;) {
      auto c = poller();
      auto r = c.Get(path);
      ++polls;
      if (!r || r->status != 200)
        return false;
      ++answered;
      if (json::parse(r->body).at("result").get<bool>())
        return true;
      std::this_thread::sleep_for(20ms);
    }
  };
  CHECK(poll("/checkConnectionsStatus"));
  REQUIRE_EQUAL(http_status(cli.Get("/stop")), 200);
  CHECK(poll("/checkStopStatus"));
  auto results = cli.Get("/results");
  REQUIRE_EQUAL(http_status(results), 200);
  auto pods = json::parse(results->body);
  CHECK_EQUAL(pods.size(), 40u);
  MESSAGE(answered << " of " << polls << " status polls answered");
  CHECK_EQUAL(answered, polls);
  for (auto& pod : fleet->snapshot())
    CHECK_EQUAL(pod.check_calls, 1u);
}

TEST(a post without a length gets 411 at once) {
  start_proxy();
  raw_connection conn{port};
  conn.send("POST /initiate HTTP/1.1\r\nHost: x\r\n\r\n");
  auto answer = conn.receive_response();
  CHECK_EQUAL(answer.rfind("HTTP/1.1 411", 0), 0u);
  CHECK_NOT_EQUAL(answer.find("length_required"), std::string::npos);
  MESSAGE("and the connection is closed, not kept for a body");
  CHECK(conn.closed_by_server());
  CHECK_EQUAL(round_number(), 0);
}

TEST(the connection past the cap is refused at once and the next served) {
  options.bridge.front.max_connections = 16;
  start_proxy();
  std::vector<std::unique_ptr<raw_connection>> held;
  for (int i = 0; i < 16; ++i)
    held.push_back(std::make_unique<raw_connection>(port));
  MESSAGE("the 17th connection is answered 503 and closed");
  {
    raw_connection extra{port};
    auto answer = extra.receive_all();
    CHECK_EQUAL(answer.rfind("HTTP/1.1 503", 0), 0u);
    CHECK_NOT_EQUAL(answer.find("too_many_connections"), std::string::npos);
  }
  MESSAGE("once one closes, a new one is served");
  held.pop_back();
  std::string answer;
  for (int attempt = 0; attempt < 50; ++attempt) {
    raw_connection conn{port};
    conn.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    answer = conn.receive_response();
    if (answer.rfind("HTTP/1.1 200", 0) == 0)
      break;
    std::this_thread::sleep_for(20ms); // the close reaches the front
  }
  CHECK_EQUAL(answer.rfind("HTTP/1.1 200", 0), 0u);
  held.clear();
  std::this_thread::sleep_for(100ms);
  auto metrics = metrics_text();
  CHECK_GREATER(metric(metrics, "netpol_proxy_http_connections_refused_total"),
                0.0);
  CHECK_EQUAL(metric(metrics, "netpol_proxy_http_max_connections"), 16.0);
}

TEST(a keep-alive connection idle past the idle timeout is closed) {
  options.bridge.front.idle_timeout = 500ms;
  start_proxy();
  raw_connection conn{port};
  conn.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_EQUAL(conn.receive_response().rfind("HTTP/1.1 200", 0), 0u);
  MESSAGE("nothing more is sent: the proxy closes it");
  CHECK(conn.closed_by_server());
  auto metrics = metrics_text();
  CHECK_NOT_EQUAL(metrics.find("netpol_proxy_http_closed_total{deadline=\"idle\"} 1"),
                  std::string::npos);
}

TEST(a connection that sends nothing is closed at the header deadline) {
  options.bridge.front.header_timeout = 500ms;
  start_proxy();
  raw_connection conn{port};
  MESSAGE("no request at all: closed without an answer");
  CHECK_EQUAL(conn.receive_all(), "");
  auto metrics = metrics_text();
  CHECK_NOT_EQUAL(
    metrics.find("netpol_proxy_http_closed_total{deadline=\"header\"} 1"),
    std::string::npos);
}

TEST(a body sent too slowly is cut at its deadline) {
  options.bridge.front.header_timeout = 300ms;
  options.bridge.front.body_timeout = 300ms;
  start_proxy();
  raw_connection conn{port};
  conn.send("POST /initiate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
            "{\"127.31.1.1\": [");
  auto answer = conn.receive_all();
  CHECK_EQUAL(answer.rfind("HTTP/1.1 408", 0), 0u);
  CHECK_NOT_EQUAL(answer.find("--body-timeout"), std::string::npos);
  CHECK_EQUAL(round_number(), 0);
}

TEST(only one request body is read at a time) {
  options.bridge.front.body_slot_wait = 300ms;
  options.bridge.front.body_timeout = 60s;
  start(pods_with(fault::none, 1, "127.31.2.1"));
  auto body = initiate_body(1).dump();
  MESSAGE("a client starts a body and stalls: it holds the one body slot");
  raw_connection stalled{port};
  stalled.send("POST /initiate HTTP/1.1\r\nHost: x\r\nContent-Length: "
               + std::to_string(body.size()) + "\r\n\r\n"
               + body.substr(0, 5));
  std::this_thread::sleep_for(100ms);
  MESSAGE("another body waits its turn, then gets 503 busy, nothing read");
  auto cli = client();
  auto res = cli.Post("/initiate", body, "application/json");
  REQUIRE(res);
  CHECK_EQUAL(res->status, 503);
  auto refusal = json::parse(res->body);
  CHECK_EQUAL(refusal["error"], "busy");
  CHECK_EQUAL(round_number(), 0);
  MESSAGE("the first body completes: its round starts, the slot is free");
  stalled.send(body.substr(5));
  CHECK_EQUAL(stalled.receive_response().rfind("HTTP/1.1 200", 0), 0u);
  CHECK_EQUAL(round_number(), 1);
  poll_until_done("/checkConnectionsStatus");
  REQUIRE_EQUAL(http_status(cli.Get("/stop")), 200);
  poll_until_done("/checkStopStatus");
  res = cli.Post("/initiate", body, "application/json");
  REQUIRE(res);
  CHECK_EQUAL(res->status, 200);
}

TEST(a client that expects 100 continue gets it before sending the body) {
  start(pods_with(fault::none, 1, "127.31.3.1"));
  auto body = initiate_body(1).dump();
  raw_connection conn{port};
  conn.send("POST /initiate HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            "Content-Length: "
            + std::to_string(body.size()) + "\r\n\r\n");
  auto interim = conn.receive_response();
  CHECK_EQUAL(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  conn.send(body);
  CHECK_EQUAL(conn.receive_response().rfind("HTTP/1.1 200", 0), 0u);
}

TEST(keys outside the allowed pods are refused before anything changes) {
  std::string error;
  auto policy = pod_address_policy::parse("127.31.4.0/24", error);
  REQUIRE(policy);
  options.bridge.allowed_pods = *policy;
  auto specs = pods_with(fault::none, 1, "127.31.4.1");
  auto outside = pods_with(fault::none, 1, "127.31.5.1");
  specs.insert(specs.end(), outside.begin(), outside.end());
  start(specs);
  auto before = round_state();
  auto cli = client();
  auto res = cli.Post("/initiate", initiate_body(1).dump(), "application/json");
  REQUIRE(res);
  CHECK_EQUAL(res->status, 400);
  auto message = json::parse(res->body)["message"].get<std::string>();
  MESSAGE(message);
  CHECK_NOT_EQUAL(message.find("127.31.5.1"), std::string::npos);
  CHECK_NOT_EQUAL(message.find("--allow-pods"), std::string::npos);
  CHECK_EQUAL(round_state(), before);
  for (auto& pod : fleet->snapshot())
    CHECK_EQUAL(pod.check_calls, 0u);
}

TEST(the default policy refuses link local and other non unicast keys) {
  start_proxy();
  auto cli = client();
  for (auto key : {"169.254.169.254", "::ffff:169.254.169.254", "fe80::1",
                   "0.0.0.0", "224.0.0.1", "255.255.255.255", "ff02::1",
                   "::"}) {
    json body = {{key, json::array()}};
    auto res = cli.Post("/initiate", body.dump(), "application/json");
    REQUIRE(res);
    CHECK_EQUAL(res->status, 400);
    CHECK_NOT_EQUAL(res->body.find(key), std::string::npos);
  }
  CHECK_EQUAL(round_number(), 0);
}

TEST(range on results is ignored and the whole body comes back) {
  start(pods_with(fault::none, 3, "127.31.6.1"));
  auto cli = client();
  cli.set_keep_alive(true);
  REQUIRE_EQUAL(
    http_status(cli.Post("/initiate", initiate_body(1).dump(),
                         "application/json")),
    200);
  poll_until_done("/checkConnectionsStatus");
  REQUIRE_EQUAL(http_status(cli.Get("/stop")), 200);
  poll_until_done("/checkStopStatus");
  auto whole = cli.Get("/results");
  REQUIRE_EQUAL(http_status(whole), 200);
  auto ranged = cli.Get("/results", {{"Range", "bytes=5-20"}});
  REQUIRE(ranged);
  CHECK_EQUAL(ranged->status, 200);
  CHECK_EQUAL(ranged->body, whole->body);
  MESSAGE("the connection stays usable: the next answer is intact");
  auto after = cli.Get("/checkStopStatus");
  REQUIRE_EQUAL(http_status(after), 200);
  auto done = json::parse(after->body);
  CHECK(done["result"].get<bool>());
}

FIXTURE_SCOPE_END()
