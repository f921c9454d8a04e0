#define CAF_SUITE pod_calls

#include "proxy_fixture.hpp"
#include "support/test.hpp"

#include <dirent.h>

#include <fstream>
#include <map>

using namespace netpol;
using namespace netpol::test;
using namespace std::chrono_literals;
using podsim::fault;
using json = nlohmann::json;

// What a round with these pods may add to the peak RSS. TSan's shadow and
// history memory grow with every allocation (here 122 MB for what costs
// 1 MB in a Release build); the unbounded growth this guards against was
// 1.8 GB in 12 s.
#ifdef __SANITIZE_THREAD__
constexpr long rss_growth_bound_kib = 256 * 1024;
#else
constexpr long rss_growth_bound_kib = 64 * 1024;
#endif

namespace {

/// Threads of this process (the proxy runs in it), from /proc.
size_t thread_count() {
  size_t n = 0;
  if (auto* dir = opendir("/proc/self/task")) {
    while (auto* entry = readdir(dir))
      if (entry->d_name[0] != '.')
        ++n;
    closedir(dir);
  }
  return n;
}

/// The process's peak resident memory so far, in KiB.
long peak_rss_kib() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

struct fixture : proxy_fixture {
  std::map<std::string, json> problems() {
    auto [status, body] = get_json("/status");
    REQUIRE_EQUAL(status, 200);
    std::map<std::string, json> result;
    for (auto& problem : body["problems"])
      result[problem["pod"]] = problem;
    return result;
  }
};

} // namespace

FIXTURE_SCOPE(pod_calls_tests, fixture)

TEST(pods that misbehave inside an answer cost a deadline and nothing more) {
  // Each pod misbehaves after the proxy connected: the table of issue 10.
  std::vector<podsim::pod_spec> specs = pods_with(fault::none, 4,
                                                  "127.32.0.1");
  std::map<fault, std::string> ip_of;
  auto add = [&](fault kind, const std::string& ip) {
    podsim::pod_spec spec;
    spec.ip = ip;
    spec.profile.kind = kind;
    spec.profile.interval = 250ms; // a byte per 250 ms: within any read
    specs.push_back(spec);
    ip_of[kind] = ip;
  };
  add(fault::endless_header, "127.32.1.1");
  add(fault::trickle_headers, "127.32.1.2");
  add(fault::slow_answer, "127.32.1.3");
  add(fault::case_variant, "127.32.1.4");
  add(fault::too_deep, "127.32.1.5");
  options.settings.retries = 1;
  start(specs);
  // The coordinator has spawned its workers once it answers.
  REQUIRE_EQUAL(get_json("/status").first, 200);
  auto idle_threads = thread_count();
  auto rss_before = peak_rss_kib();
  MESSAGE("threads at rest: " << idle_threads << ", peak RSS "
                              << rss_before << " KiB");
  auto cli = client();
  REQUIRE_EQUAL(http_status(cli.Post("/initiate", initiate_body(1).dump(),
                                     "application/json")),
                200);
  poll_until_done("/checkConnectionsStatus");
  REQUIRE_EQUAL(http_status(cli.Get("/stop")), 200);
  poll_until_done("/checkStopStatus");
  auto p = problems();
  MESSAGE("the endless header line is cut at libcurl's cap, after the whole "
          "request went out: unconfirmed, never sent again");
  auto& endless = p[ip_of[fault::endless_header]];
  CHECK_EQUAL(endless["delivery"], "unconfirmed");
  CHECK_EQUAL(endless["delivery_attempts"], 1);
  CHECK_EQUAL(endless["delivery_error"], "header line longer than 102400 bytes");
  CHECK_EQUAL(endless["state"], "collect_failed");
  MESSAGE("a byte a second never ends a read, but the call's deadline ends "
          "the call");
  auto& trickle = p[ip_of[fault::trickle_headers]];
  CHECK_EQUAL(trickle["delivery"], "unconfirmed");
  CHECK_EQUAL(trickle["delivery_attempts"], 1);
  CHECK_EQUAL(trickle["delivery_error"], "no answer within 1500ms");
  MESSAGE("a slow answer after a 200 head: delivered once, never again");
  auto& slow = p[ip_of[fault::slow_answer]];
  CHECK_EQUAL(slow["delivery"], "delivered");
  CHECK_EQUAL(slow["delivery_attempts"], 1);
  CHECK_EQUAL(slow["collection_error"], "answer not complete within 1500ms");
  MESSAGE("bodies Go's decoder refuses never reach /results");
  auto& variant = p[ip_of[fault::case_variant]];
  CHECK_EQUAL(variant["state"], "collect_failed");
  CHECK_EQUAL(variant["collection_error"].get<std::string>().rfind(
                "bad results body", 0),
              0u);
  auto& deep = p[ip_of[fault::too_deep]];
  CHECK_EQUAL(deep["state"], "collect_failed");
  CHECK_NOT_EQUAL(deep["collection_error"].get<std::string>().find("deep"),
                  std::string::npos);
  auto results = cli.Get("/results");
  REQUIRE_EQUAL(http_status(results), 200);
  auto body = json::parse(results->body);
  CHECK_EQUAL(body.size(), 4u);
  MESSAGE("no pod was sent /check twice");
  for (auto& pod : fleet->snapshot()) {
    CHECK_EQUAL(pod.duplicate_checks, 0u);
    CHECK_LESS_OR_EQUAL(pod.check_calls, 1u);
  }
  MESSAGE("memory stayed bounded although a pod sent without end");
  auto rss_after = peak_rss_kib();
  MESSAGE("peak RSS " << rss_before << " -> " << rss_after << " KiB");
  CHECK_LESS_OR_EQUAL(rss_after - rss_before, rss_growth_bound_kib);
  MESSAGE("and every call ended: the threads are back to their number, "
          "and the sampler's two workers, spawned to ask the unconfirmed "
          "pod whether it took its list, wait for the next round");
  size_t threads = 0;
  auto at_rest = idle_threads + 2;
  for (int i = 0; i < 50 && (threads = thread_count()) != at_rest; ++i)
    std::this_thread::sleep_for(20ms);
  CHECK_EQUAL(threads, at_rest);
}

TEST(shutdown ends pod calls in flight at once) {
  auto specs = pods_with(fault::hang, 4, "127.32.2.1");
  options.settings.connect_timeout = 30s;
  options.settings.request_timeout = 60s;
  start(specs);
  auto cli = client();
  REQUIRE_EQUAL(http_status(cli.Post("/initiate", initiate_body(1).dump(),
                                     "application/json")),
                200);
  std::this_thread::sleep_for(200ms); // the calls are in flight
  auto status = get_json("/status").second;
  CHECK_EQUAL(status["states"]["delivering"], 4);
  MESSAGE("the calls would last 90 s; cancelling ends them");
  auto started = std::chrono::steady_clock::now();
  canceller->cancel_all();
  // Within a bound that only ends a hung test.
  for (int i = 0; i < 250; ++i) {
    if (get_json("/status").second["states"]["delivering"] == 0)
      break;
    std::this_thread::sleep_for(20ms);
  }
  auto after = get_json("/status").second;
  CHECK_EQUAL(after["states"]["delivering"], 0);
  MESSAGE("ended in " << std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count()
                      << " ms");
}

FIXTURE_SCOPE_END()
