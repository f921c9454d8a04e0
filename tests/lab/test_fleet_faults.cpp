// The simulated pods' answer and reporting faults, seen from a real socket:
// what each sends and when, what its /results body holds, and that the
// fleet counts every /check and lets go of a connection once its peer goes.
#define CAF_SUITE podsim_faults

#include "podsim/fleet.hpp"
#include "support/test.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using json = nlohmann::json;
using podsim::fault;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Four tests in two connections: (0, .10, 8080), (0, .11, 8080),
// (1, .12, 8080), (1, .12, 8443).
const std::string check_list
  = R"([{"addresses":["127.0.0.10","127.0.0.11"],"ports":[8080],"netpol":"np-a"},)"
    R"({"addresses":["127.0.0.12"],"ports":[8080,8443],"netpol":"np-b"}])";
constexpr size_t tests_per_pod = 4;
constexpr auto interval = milliseconds(25);
// Long enough that a pod's first answers come before it (the test reads them
// right after /check), short enough to wait out.
constexpr auto reveal = milliseconds(3000);
constexpr auto loss_after = milliseconds(1500);
const std::string healthy_check_answer
  = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n";

double seconds_since(steady::time_point start) {
  return std::chrono::duration<double>(steady::now() - start).count();
}

long rss_kb() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

/// A plain TCP client: the bytes as they come, with their arrival times.
class client {
public:
  client(const std::string& ip, uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, ip.c_str(), &to.sin_addr);
    connected_
      = ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  }
  ~client() {
    close();
  }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  bool connected() const {
    return connected_;
  }

  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

  bool send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent,
                      MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  void post_check(const std::string& body) {
    send("POST /check HTTP/1.1\r\nHost: pod\r\nContent-Type: "
         "application/json\r\nContent-Length: "
         + std::to_string(body.size()) + "\r\n\r\n" + body);
  }

  void get_results() {
    send("GET /results HTTP/1.1\r\nHost: pod\r\n\r\n");
  }

  /// Reads until `done(received)` or `limit` passed or the peer closed;
  /// records the arrival time of every byte.
  template <class Done>
  void read_until(Done done, milliseconds limit) {
    auto deadline = steady::now() + limit;
    char buffer[64 * 1024];
    while (!done(received)) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline
                                                           - steady::now());
      if (left.count() <= 0)
        return;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return;
      auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        closed_by_peer = true;
        return;
      }
      auto now = seconds_since(start);
      received.append(buffer, static_cast<size_t>(n));
      arrivals.insert(arrivals.end(), static_cast<size_t>(n), now);
    }
  }

  /// A whole answer with a Content-Length.
  void read_answer(milliseconds limit) {
    read_until(
      [](const std::string& got) {
        auto head = got.find("\r\n\r\n");
        if (head == std::string::npos)
          return false;
        auto at = got.find("Content-Length: ");
        if (at == std::string::npos || at > head)
          return false;
        auto length = std::stoul(got.substr(at + 16));
        return got.size() >= head + 4 + length;
      },
      limit);
  }

  std::string body() const {
    auto head = received.find("\r\n\r\n");
    return head == std::string::npos ? "" : received.substr(head + 4);
  }

  steady::time_point start = steady::now();
  std::string received;
  std::vector<double> arrivals; // seconds since `start`, one per byte
  bool closed_by_peer = false;

private:
  int fd_ = -1;
  bool connected_ = false;
};

/// The paced bytes of an answer, those after `from`, never come faster than
/// one per interval: the pod cannot send before it has read the request,
/// which the client sent after `start`, and each byte's timer is set when
/// the one before went out, so byte k arrives at least (k - from) intervals
/// after `start`. (Measured against `start`, not against byte `from`'s own
/// arrival, which a busy machine can delay.) Nor do they stall: the last one
/// arrives well within four times its share.
void check_paced(const client& c, size_t from) {
  CAF_REQUIRE_GREATER(c.arrivals.size(), from + 2);
  auto step = std::chrono::duration<double>(interval).count();
  size_t too_early = 0;
  for (size_t k = from + 1; k < c.arrivals.size(); ++k)
    if (c.arrivals[k] < (k - from) * step * 0.98)
      ++too_early;
  CHECK_EQUAL(too_early, 0u);
  CHECK_LESS_OR_EQUAL(c.arrivals.back(),
                      (c.arrivals.size() - from) * step * 4 + 2.0);
}

struct fleet_fixture {
  std::vector<podsim::pod_spec> specs;
  std::unique_ptr<podsim::fleet> fleet;

  fleet_fixture() {
    auto add = [&](fault kind, double test_fraction = 0.5) {
      podsim::pod_spec spec;
      spec.ip = "127.62.0." + std::to_string(specs.size() + 1);
      spec.profile.kind = kind;
      spec.profile.interval = interval;
      spec.profile.test_fraction = test_fraction;
      specs.push_back(spec);
    };
    add(fault::none);            // .1
    add(fault::trickle_headers); // .2
    add(fault::endless_header);  // .3
    add(fault::slow_answer);     // .4
    add(fault::case_variant);    // .5
    add(fault::too_deep);        // .6
    add(fault::partial);         // .7: 2 of 4
    add(fault::partial, 0.9);    // .8: round(3.6) = 4, but one must miss
    add(fault::duplicate);       // .9: 2 repeated
    add(fault::duplicate, 0.0);  // .10: still one
    add(fault::alien);           // .11
    add(fault::none);            // .12: reveals its results over 3 s
    specs.back().profile.reveal = reveal;
    add(fault::restart);         // .13
    specs.back().profile.after = loss_after;
    add(fault::vanish);          // .14
    specs.back().profile.after = loss_after;
    podsim::fleet_options opts;
    opts.port = 0;
    fleet = std::make_unique<podsim::fleet>(opts, specs);
    std::string error;
    if (!fleet->start(error))
      CAF_FAIL("fleet: " << error);
  }

  std::string ip(size_t pod) const {
    return specs[pod - 1].ip;
  }

  podsim::pod_report report(size_t pod) const {
    return fleet->snapshot()[pod - 1];
  }

  /// POSTs the list to a pod that answers it at once and returns the body
  /// its /results serves (from the fleet's own account).
  podsim::pod_report checked(size_t pod) {
    client c{ip(pod), fleet->port()};
    REQUIRE(c.connected());
    c.post_check(check_list);
    c.read_answer(milliseconds(5000));
    REQUIRE(c.received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    auto r = report(pod);
    REQUIRE(r.accepted_check);
    CHECK_EQUAL(r.check_calls, 1u);
    CHECK_EQUAL(r.tests, tests_per_pod);
    // What the fleet says it serves is what a client gets.
    client get{ip(pod), fleet->port()};
    get.get_results();
    get.read_answer(milliseconds(5000));
    CHECK_EQUAL(get.body(), r.results_body);
    return r;
  }

  /// Waits until the fleet holds no more than `n` connections.
  bool connections_drop_to(size_t n) {
    auto deadline = steady::now() + milliseconds(3000);
    while (fleet->open_connections() > n) {
      if (steady::now() > deadline)
        return false;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return true;
  }
};

/// One GET /results on a new connection: the body, empty when none came.
std::string results_now(const std::string& ip, uint16_t port) {
  client get{ip, port};
  if (!get.connected())
    return "";
  get.get_results();
  get.read_answer(milliseconds(5000));
  return get.body();
}

json entries_of(const podsim::pod_report& r) {
  auto j = json::parse(r.results_body);
  REQUIRE(j.is_array());
  return j;
}

json test_of(const std::string& address, int port, int idx,
             const std::string& np) {
  return json{{"address", address},
              {"port", port},
              {"connectionidx", idx},
              {"npname", np}};
}

/// The four tests in list order, as a healthy pod reports them.
std::vector<json> the_tests() {
  return {test_of("127.0.0.10", 8080, 0, "np-a"),
          test_of("127.0.0.11", 8080, 0, "np-a"),
          test_of("127.0.0.12", 8080, 1, "np-b"),
          test_of("127.0.0.12", 8443, 1, "np-b")};
}

json without_timestamp(json entry) {
  entry.erase("timestamp");
  return entry;
}

} // namespace

FIXTURE_SCOPE(podsim_faults_tests, fleet_fixture)

TEST(a healthy pod reports one entry per test in list order) {
  auto r = checked(1);
  auto entries = entries_of(r);
  REQUIRE_EQUAL(entries.size(), tests_per_pod);
  auto tests = the_tests();
  for (size_t i = 0; i < tests.size(); ++i)
    CHECK_EQUAL(without_timestamp(entries[i]), tests[i]);
  CHECK_EQUAL(r.results_entries, tests_per_pod);
  CHECK_EQUAL(r.results_omitted + r.results_duplicated + r.results_alien, 0u);
}

TEST(trickle_headers sends its answer one byte per interval from the status line on) {
  client c{ip(2), fleet->port()};
  REQUIRE(c.connected());
  c.post_check(check_list);
  c.read_answer(milliseconds(20000));
  MESSAGE("the whole answer is a healthy /check answer");
  CHECK(c.received.rfind(healthy_check_answer, 0) == 0);
  CHECK(c.body() == "Check Request received, processing...\n");
  MESSAGE("the first byte comes at once, then one per interval");
  CHECK_LESS_OR_EQUAL(c.arrivals.front(), 1.0);
  check_paced(c, 0);
  MESSAGE("the pod took the list when it read the request");
  auto r = report(2);
  CHECK(r.accepted_check);
  CHECK_EQUAL(r.check_calls, 1u);
  CHECK_EQUAL(r.results_entries, tests_per_pod);
  MESSAGE("/results trickles too; the fleet lets go once the client leaves");
  client get{ip(2), fleet->port()};
  get.get_results();
  get.read_until([](const std::string& got) { return got.size() >= 5; },
                 milliseconds(5000));
  CHECK_EQUAL(get.received, "HTTP/");
  check_paced(get, 0);
  get.close();
  CHECK(connections_drop_to(1)); // `c`, still open (keep-alive)
  c.close();
  CHECK(connections_drop_to(0));
  MESSAGE("a second /check hangs, as a healthy pod's does, and is counted");
  client again{ip(2), fleet->port()};
  again.post_check(check_list);
  again.read_until([](const std::string& got) { return !got.empty(); },
                   milliseconds(300));
  CHECK(again.received.empty());
  r = report(2);
  CHECK_EQUAL(r.check_calls, 2u);
  CHECK_EQUAL(r.duplicate_checks, 1u);
  CHECK_EQUAL(r.results_calls, 1u);
}

TEST(slow_answer sends status and headers at once and the body one byte per interval) {
  client c{ip(4), fleet->port()};
  REQUIRE(c.connected());
  c.post_check(check_list);
  c.read_answer(milliseconds(20000));
  auto head = c.received.find("\r\n\r\n");
  REQUIRE(head != std::string::npos);
  CHECK(c.received.rfind(healthy_check_answer, 0) == 0);
  CHECK(c.body() == "Check Request received, processing...\n");
  MESSAGE("the head arrived before the first body byte was due");
  auto step = std::chrono::duration<double>(interval).count();
  CHECK_LESS_OR_EQUAL(c.arrivals[head + 3] - c.arrivals[0], step * 0.95);
  MESSAGE("the body did not");
  check_paced(c, head + 3);
  auto r = report(4);
  CHECK(r.accepted_check);
  CHECK_EQUAL(r.check_calls, 1u);
  CHECK_EQUAL(r.duplicate_checks, 0u);
  CHECK_EQUAL(r.results_entries, tests_per_pod);
}

TEST(endless_header never ends its header and frees the connection when the client goes) {
  auto rss_before = rss_kb();
  client c{ip(3), fleet->port()};
  REQUIRE(c.connected());
  c.post_check(check_list);
  const std::string prefix = "HTTP/1.1 200 OK\r\nX-A: ";
  // 32 MiB: far past any header cap; checked and dropped as it comes.
  size_t total = 0;
  bool only_a = true;
  std::string start;
  auto deadline = steady::now() + milliseconds(20000);
  while (total < (32u << 20) && steady::now() < deadline) {
    c.received.clear();
    c.arrivals.clear();
    c.read_until([](const std::string& got) { return got.size() >= 4096; },
                 milliseconds(2000));
    if (c.received.empty())
      break;
    size_t from = 0;
    if (start.size() < prefix.size()) {
      auto take = std::min(prefix.size() - start.size(), c.received.size());
      start += c.received.substr(0, take);
      from = take;
    }
    if (c.received.find_first_not_of('a', from) != std::string::npos)
      only_a = false;
    total += c.received.size();
  }
  CHECK_EQUAL(start, prefix);
  CHECK(only_a); // never a newline: the header line never ends
  CHECK_GREATER(total, (32u << 20) - 1);
  CHECK(!c.closed_by_peer);
  MESSAGE("the pod took the list: the answer is what misbehaves");
  auto r = report(3);
  CHECK(r.accepted_check);
  CHECK_EQUAL(r.check_calls, 1u);
  CHECK_EQUAL(r.results_entries, tests_per_pod);
  MESSAGE("a client that stops reading costs the fleet one chunk, not more");
  client idle{ip(3), fleet->port()};
  idle.get_results();
  std::this_thread::sleep_for(milliseconds(300));
  CHECK_EQUAL(fleet->open_connections(), 2u);
  auto rss_after = rss_kb();
  MESSAGE("RSS before " << rss_before << " kB, after " << rss_after << " kB");
  CHECK_LESS_OR_EQUAL(rss_after, rss_before + 16 * 1024);
  c.close();
  idle.close();
  CHECK(connections_drop_to(0));
  MESSAGE("every request gets the endless answer, a second /check too");
  client again{ip(3), fleet->port()};
  again.post_check(check_list);
  again.read_until([&](const std::string& got) { return got.size() > 64; },
                   milliseconds(2000));
  CHECK(again.received.rfind(prefix, 0) == 0);
  r = report(3);
  CHECK_EQUAL(r.check_calls, 2u);
  CHECK_EQUAL(r.duplicate_checks, 1u);
  CHECK_EQUAL(r.results_calls, 1u);
}

TEST(case_variant adds a PORT member Go would put in the port field) {
  auto entries = entries_of(checked(5));
  REQUIRE_EQUAL(entries.size(), tests_per_pod);
  auto tests = the_tests();
  for (size_t i = 0; i < tests.size(); ++i) {
    CHECK_EQUAL(entries[i]["PORT"], "eighty");
    auto plain = without_timestamp(entries[i]);
    plain.erase("PORT");
    CHECK_EQUAL(plain, tests[i]);
  }
}

TEST(too_deep nests one unknown member of the first entry 10001 arrays deep) {
  auto r = checked(6);
  // Read on the text: a DOM of 10,001 nested arrays is built, copied and
  // freed recursively, which overflows the stack under ASan.
  auto body = r.results_body;
  const std::string member = ",\"nested\":";
  auto at = body.find(member);
  REQUIRE(at != std::string::npos);
  auto open = body.find_first_not_of('[', at + member.size());
  auto depth = open - (at + member.size());
  auto close = body.find_first_not_of(']', open);
  CHECK_EQUAL(close - open, depth);
  CHECK_EQUAL(depth, podsim::too_deep_arrays);
  CHECK_GREATER(depth, podsim::go_max_nesting);
  CHECK_EQUAL(body.find(member, close), std::string::npos);
  body.erase(at, close - at);
  auto entries = json::parse(body);
  REQUIRE(entries.is_array());
  REQUIRE_EQUAL(entries.size(), tests_per_pod);
  auto tests = the_tests();
  auto first = without_timestamp(entries[0]);
  CHECK_EQUAL(first, tests[0]);
  for (size_t i = 1; i < tests.size(); ++i)
    CHECK_EQUAL(without_timestamp(entries[i]), tests[i]);
}

TEST(partial reports the first tests and always leaves one out) {
  auto r = checked(7);
  auto entries = entries_of(r);
  auto tests = the_tests();
  REQUIRE_EQUAL(entries.size(), 2u); // round(0.5 x 4)
  CHECK_EQUAL(without_timestamp(entries[0]), tests[0]);
  CHECK_EQUAL(without_timestamp(entries[1]), tests[1]);
  CHECK_EQUAL(r.results_omitted, 2u);
  CHECK_EQUAL(r.results_entries, 2u);
  r = checked(8);
  entries = entries_of(r);
  REQUIRE_EQUAL(entries.size(), 3u); // round(0.9 x 4) = 4, less one
  CHECK_EQUAL(r.results_omitted, 1u);
  for (size_t i = 0; i < 3; ++i)
    CHECK_EQUAL(without_timestamp(entries[i]), tests[i]);
}

TEST(duplicate repeats its first entries byte for byte at the end) {
  auto r = checked(9);
  auto entries = entries_of(r);
  auto tests = the_tests();
  REQUIRE_EQUAL(entries.size(), 6u);
  for (size_t i = 0; i < tests.size(); ++i)
    CHECK_EQUAL(without_timestamp(entries[i]), tests[i]);
  CHECK_EQUAL(entries[4], entries[0]);
  CHECK_EQUAL(entries[5], entries[1]);
  CHECK_EQUAL(r.results_duplicated, 2u);
  CHECK_EQUAL(r.results_entries, 6u);
  MESSAGE("a share of 0 still repeats one");
  r = checked(10);
  entries = entries_of(r);
  REQUIRE_EQUAL(entries.size(), 5u);
  CHECK_EQUAL(entries[4], entries[0]);
  CHECK_EQUAL(r.results_duplicated, 1u);
}

TEST(alien adds four entries that match none of its tests) {
  auto r = checked(11);
  auto entries = entries_of(r);
  auto tests = the_tests();
  REQUIRE_EQUAL(entries.size(), tests_per_pod + podsim::alien_entries);
  for (size_t i = 0; i < tests.size(); ++i)
    CHECK_EQUAL(without_timestamp(entries[i]), tests[i]);
  CHECK_EQUAL(r.results_alien, 4u);
  auto past = without_timestamp(entries[4]);
  CHECK_EQUAL(past["connectionidx"], 2); // the list has two connections
  auto address = without_timestamp(entries[5]);
  CHECK_EQUAL(address["connectionidx"], 0);
  CHECK_NOT_EQUAL(address["address"], "127.0.0.10");
  CHECK_NOT_EQUAL(address["address"], "127.0.0.11");
  CHECK_EQUAL(address["npname"], "np-a");
  auto port = without_timestamp(entries[6]);
  CHECK_EQUAL(port["connectionidx"], 0);
  CHECK_EQUAL(port["address"], "127.0.0.10");
  CHECK_NOT_EQUAL(port["port"], 8080);
  auto netpol = without_timestamp(entries[7]);
  CHECK_NOT_EQUAL(netpol["npname"], "np-a");
  CHECK_NOT_EQUAL(netpol["npname"], "np-b");
  MESSAGE("none of the four is a test of the list");
  for (size_t i = 4; i < entries.size(); ++i)
    for (auto& test : tests)
      CHECK_NOT_EQUAL(without_timestamp(entries[i]), test);
}

TEST(a revealing pod shows its results one by one and each answer extends the last) {
  auto start = steady::now();
  client c{ip(12), fleet->port()};
  REQUIRE(c.connected());
  c.post_check(check_list);
  c.read_answer(milliseconds(5000));
  REQUIRE(c.received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  std::vector<std::string> answers;
  auto deadline = start + reveal + milliseconds(10000);
  while (steady::now() < deadline) {
    answers.push_back(results_now(ip(12), fleet->port()));
    if (json::parse(answers.back()).size() == tests_per_pod)
      break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  REQUIRE_GREATER(answers.size(), 1u);
  MESSAGE("the first answer, right after /check, lacks some; the last has all");
  CHECK_LESS(json::parse(answers.front()).size(), tests_per_pod);
  auto last = json::parse(answers.back());
  REQUIRE_EQUAL(last.size(), tests_per_pod);
  auto tests = the_tests();
  for (size_t i = 0; i < tests.size(); ++i)
    CHECK_EQUAL(without_timestamp(last[i]), tests[i]);
  MESSAGE("every answer is a prefix of the next, up to its closing bracket");
  for (size_t i = 1; i < answers.size(); ++i) {
    auto& before = answers[i - 1];
    REQUIRE_GREATER_OR_EQUAL(before.size(), 3u);
    auto open = before.substr(0, before.size() - 2); // without "]\n"
    CHECK(answers[i].rfind(open, 0) == 0);
  }
  MESSAGE("each entry is stamped when it appeared: reveal / 4 apart");
  auto seconds_of = [](const json& entry) { // of the day
    auto text = entry["timestamp"].get<std::string>(); // ...T12:34:56.123456789Z
    return std::stod(text.substr(11, 2)) * 3600 + std::stod(text.substr(14, 2)) * 60
           + std::stod(text.substr(17, 12));
  };
  for (size_t i = 1; i < last.size(); ++i)
    CHECK_LESS(std::abs(seconds_of(last[i]) - seconds_of(last[i - 1]) - 0.75), 1e-6);
  CHECK_EQUAL(report(12).results_body, answers.back());
}

TEST(a restarting pod forgets its list after a while and takes a new check) {
  auto start = steady::now();
  auto r = checked(13);
  CHECK_EQUAL(entries_of(r).size(), tests_per_pod);
  std::this_thread::sleep_until(start + loss_after + milliseconds(100));
  MESSAGE("after the restart: nothing to report, as before any /check");
  CHECK_EQUAL(results_now(ip(13), fleet->port()), "[]\n");
  auto after = report(13);
  CHECK_EQUAL(after.restarts, 1u);
  CHECK(!after.accepted_check);
  MESSAGE("a /check now is a fresh pod's first, not a duplicate that hangs");
  client again{ip(13), fleet->port()};
  REQUIRE(again.connected());
  again.post_check(check_list);
  again.read_answer(milliseconds(5000));
  CHECK(again.received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  auto last = report(13);
  CHECK(last.accepted_check);
  CHECK_EQUAL(last.check_calls, 2u);
  CHECK_EQUAL(last.duplicate_checks, 0u);
}

TEST(a vanishing pod resets the first call after its time and refuses the rest) {
  auto start = steady::now();
  auto r = checked(14);
  CHECK_EQUAL(entries_of(r).size(), tests_per_pod);
  CHECK(!r.vanished);
  std::this_thread::sleep_until(start + loss_after + milliseconds(100));
  client late{ip(14), fleet->port()};
  REQUIRE(late.connected()); // its listener was still open
  late.get_results();
  late.read_answer(milliseconds(5000));
  CHECK(late.received.empty());
  CHECK(late.closed_by_peer);
  CHECK(report(14).vanished);
  MESSAGE("from then on nothing listens at its address");
  client refused{ip(14), fleet->port()};
  CHECK(!refused.connected());
}

FIXTURE_SCOPE_END()
