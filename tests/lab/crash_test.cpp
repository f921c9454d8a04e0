// netpol-crash-test: kills the real proxy (SIGKILL, and SIGTERM for a clean
// stop) at many points of a kube-burner round, restarts it on the same
// --state-dir and checks that the round goes on as if nothing had happened:
// no pod gets /check twice, every healthy pod's results reach /results byte
// for byte, the counts add up, the status polls never go back, and the
// completeness report matches what the pods did (issue 13).
//
// Every point runs a fresh simulated fleet (a client pod takes /check once)
// and a fresh state dir. Point 0 is a baseline round without a kill: it
// measures how long delivery and collection take, so that the kill instants
// of the later points spread over the phases on any machine (a sanitizer
// build is slower). The instants come from --seed and the point's number, so
// `--seed S --points N --only I` runs point I again. --early-stops adds
// points outside kube-burner's order: a /stop while /checks are out, then a
// kill. docs/experiments.md, "The crash test", lists the points and checks.

#include "lab/proxy_process.hpp"
#include "lab/report.hpp"
#include "lab/runner.hpp"
#include "podsim/fleet.hpp"
#include "podsim/scenario.hpp"

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;
using netpol::lab::proxy_process;
using podsim::fault;

// -- what a point is
// ----------------------------------------------------------

/// Where in kube-burner's sequence the proxy is killed.
enum class kill_kind {
  none,                   // the baseline: no kill
  initiate_inflight,      // POST /initiate sent, maybe not answered yet
  after_initiate,         // right after /initiate's 200
  delivery,               // an instant of delivery
  delivery_backoff,       // while a pod waits out a delivery backoff
  job_window,             // delivery done, before /stop
  stop_inflight,          // GET /stop sent, maybe not answered yet
  collection,             // an instant of collection
  collection_backoff,     // while a pod waits out a collection backoff
  before_results,         // /checkStopStatus true, before /results
  after_results,          // after /results
  check_in_flight,        // while the reject_check pod's /check is out
  last_results_in_flight, // while the hang pod's last /results attempt is out
  thrice,                 // an instant of delivery, the job window, collection
  // Not kube-burner's order (it sends /stop once delivery is done), but the
  // lab's runner does it after a delivery timeout, and so can an operator:
  early_stop, // right after a /stop sent while /checks are out
};

std::string to_string(kill_kind k) {
  switch (k) {
  case kill_kind::none: return "baseline";
  case kill_kind::initiate_inflight: return "initiate-in-flight";
  case kill_kind::after_initiate: return "after-initiate";
  case kill_kind::delivery: return "delivery";
  case kill_kind::delivery_backoff: return "delivery-backoff";
  case kill_kind::job_window: return "job-window";
  case kill_kind::stop_inflight: return "stop-in-flight";
  case kill_kind::collection: return "collection";
  case kill_kind::collection_backoff: return "collection-backoff";
  case kill_kind::before_results: return "before-results";
  case kill_kind::after_results: return "after-results";
  case kill_kind::check_in_flight: return "check-in-flight";
  case kill_kind::last_results_in_flight: return "last-results-in-flight";
  case kill_kind::thrice: return "thrice";
  case kill_kind::early_stop: return "early-stop";
  }
  return "?";
}

/// The four phases the summary counts points by.
enum class phase_group { none, delivery, job_window, collection, after };

phase_group group_of(kill_kind k) {
  switch (k) {
  case kill_kind::none: return phase_group::none;
  case kill_kind::initiate_inflight:
  case kill_kind::after_initiate:
  case kill_kind::delivery:
  case kill_kind::delivery_backoff:
  case kill_kind::check_in_flight:
  case kill_kind::thrice: return phase_group::delivery;
  case kill_kind::job_window: return phase_group::job_window;
  case kill_kind::stop_inflight:
  case kill_kind::collection:
  case kill_kind::collection_backoff:
  case kill_kind::last_results_in_flight:
  case kill_kind::early_stop: return phase_group::collection;
  case kill_kind::before_results:
  case kill_kind::after_results: return phase_group::after;
  }
  return phase_group::none;
}

std::string to_string(phase_group g) {
  switch (g) {
  case phase_group::none: return "none";
  case phase_group::delivery: return "delivery";
  case phase_group::job_window: return "job window";
  case phase_group::collection: return "collection";
  case phase_group::after: return "after collection";
  }
  return "?";
}

struct point_plan {
  int index = 0; // 0: the baseline
  kill_kind kind = kill_kind::none;
  int sig = SIGKILL;
  double fraction = 0;      // delivery, collection: of the baseline's phase
  double fraction2 = 0;     // thrice: the collection instant
  int delay_ms = 0;         // in-flight kinds: after sending; waits: how long
  bool resend_stop = false; // after a restart once /stop was sent

  std::string label() const {
    auto name = to_string(kind);
    return sig == SIGTERM ? "sigterm-" + name : name;
  }
};

/// The kinds in the order points cycle through them: 20 points hold every
/// kind, delivery and collection four times each.
const std::vector<kill_kind>& pattern() {
  static const std::vector<kill_kind> kinds{
    kill_kind::delivery,
    kill_kind::collection,
    kill_kind::after_initiate,
    kill_kind::check_in_flight,
    kill_kind::job_window,
    kill_kind::collection,
    kill_kind::delivery_backoff,
    kill_kind::before_results,
    kill_kind::delivery,
    kill_kind::last_results_in_flight,
    kill_kind::initiate_inflight,
    kill_kind::collection,
    kill_kind::thrice,
    kill_kind::stop_inflight,
    kill_kind::delivery,
    kill_kind::collection_backoff,
    kill_kind::after_results,
    kill_kind::delivery,
    kill_kind::job_window,
    kill_kind::collection,
  };
  return kinds;
}

/// Points 1..kills are SIGKILLs (kinds from the pattern), then `sigterms`
/// clean stops mid-delivery and as many mid-collection. A point's instant
/// depends on the seed and its number only; points of one kind split the
/// phase into equal strata, one random instant in each.
std::vector<point_plan> schedule(int kills, int sigterms, int early_stops,
                                 uint64_t seed) {
  std::vector<point_plan> plans;
  for (int i = 1; i <= kills; ++i) {
    point_plan p;
    p.index = i;
    p.kind = pattern()[static_cast<size_t>(i - 1) % pattern().size()];
    plans.push_back(p);
  }
  for (int i = 0; i < 2 * sigterms; ++i) {
    point_plan p;
    p.index = kills + 1 + i;
    p.kind = i < sigterms ? kill_kind::delivery : kill_kind::collection;
    p.sig = SIGTERM;
    plans.push_back(p);
  }
  for (int i = 0; i < early_stops; ++i) {
    point_plan p;
    p.index = kills + 2 * sigterms + 1 + i;
    p.kind = kill_kind::early_stop;
    plans.push_back(p);
  }
  std::map<std::pair<kill_kind, int>, int> total;
  for (auto& p : plans)
    ++total[{p.kind, p.sig}];
  std::map<std::pair<kill_kind, int>, int> seen;
  for (auto& p : plans) {
    std::mt19937_64 rng{seed * 1000003u + static_cast<uint64_t>(p.index)};
    std::uniform_real_distribution<double> unit{0.0, 1.0};
    auto k = seen[{p.kind, p.sig}]++;
    auto m = total[{p.kind, p.sig}];
    p.fraction = (k + unit(rng)) / m;
    p.fraction2 = (k + unit(rng)) / m;
    switch (p.kind) {
    case kill_kind::initiate_inflight:
    case kill_kind::stop_inflight:
      p.delay_ms = static_cast<int>(unit(rng) * 15); // 0..14 ms
      break;
    case kill_kind::job_window:
    case kill_kind::before_results:
    case kill_kind::thrice:
      p.delay_ms = static_cast<int>(unit(rng) * 100);
      break;
    default: break;
    }
    p.resend_stop = unit(rng) < 0.5;
  }
  return plans;
}

// -- the round
// ------------------------------------------------------------------

struct options {
  std::string proxy;
  std::string out = "crash-report";
  int points = 30;
  int sigterms = 2;
  int early_stops = 0;
  uint64_t seed = 1;
  std::set<int> only;
  size_t pods = 48;
  bool keep = false;
  bool verbose = false;
  // The pods answer GET /status as netpol-client does: a pod left
  // unconfirmed by a kill is asked whether it took its list, in a job of
  // job_ms between delivery and /stop.
  bool answer_status = false;
  int job_ms = 500;
};

/// A small fleet whose phases last a few hundred milliseconds, with every
/// kind of trouble a restart must carry across: retries and backoffs
/// (down, http_500, flaky), unconfirmed pods (hang, reset), a refusal
/// (reject_check) and pods slower than the rest.
podsim::scenario make_scenario(size_t pods, uint64_t seed) {
  podsim::scenario s;
  s.name = "crash";
  s.pods = pods;
  s.first_address = "127.80.0.1";
  s.mode = podsim::listen_mode::per_pod;
  s.seed = seed;
  s.latency = 20ms;
  s.jitter = 10ms;
  s.connections_per_pod = 2;
  auto group = [&](fault kind, size_t count) {
    podsim::fault_group g;
    g.kind = kind;
    g.count = count;
    s.faults.push_back(g);
    return &s.faults.back();
  };
  group(fault::down, 2);
  group(fault::hang, 1);
  group(fault::reset, 1);
  group(fault::http_500, 1);
  group(fault::flaky, 3)->failures = 2;
  group(fault::slow, 2)->delay = 60ms;
  group(fault::reject_check, 1);
  s.proxy.workers = 4;
  s.proxy.connect_timeout = 50ms;
  s.proxy.request_timeout = 150ms;
  s.proxy.retries = 2;
  s.proxy.backoff_base = 50ms;
  s.proxy.backoff_cap = 100ms;
  podsim::resolve_faults(s);
  return s;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string describe(const httplib::Result& res) {
  if (!res)
    return httplib::to_string(res.error());
  auto body = res->body.substr(0, 200);
  while (!body.empty() && body.back() == '\n')
    body.pop_back();
  return "HTTP " + std::to_string(res->status) + ": " + body;
}

std::unique_ptr<httplib::Client> make_client(uint16_t port) {
  auto cli = std::make_unique<httplib::Client>("127.0.0.1", port);
  cli->set_connection_timeout(2s);
  cli->set_read_timeout(30s);
  cli->set_write_timeout(30s);
  cli->set_tcp_nodelay(true);
  return cli;
}

int phase_order(const std::string& phase) {
  static const std::vector<std::string> order{
    "idle", "delivering", "delivered", "collecting", "collected"};
  auto i = std::find(order.begin(), order.end(), phase);
  return i == order.end() ? -1 : static_cast<int>(i - order.begin());
}

uint64_t count_of(const json& j, const char* key) {
  auto i = j.find(key);
  return i != j.end() && i->is_number_unsigned() ? i->get<uint64_t>() : 0;
}

std::string text_of(const json& j, const char* key) {
  auto i = j.find(key);
  return i != j.end() && i->is_string() ? i->get<std::string>() : "";
}

/// The proxy as seen at one instant: /status?pods=1 and both polls.
struct snapshot {
  bool up = false;
  std::string error;
  json status = json::object();
  uint64_t round = 0;
  std::string phase;
  std::optional<bool> connections;  // /checkConnectionsStatus "result"
  std::optional<bool> stopped;      // /checkStopStatus "result"
  std::map<std::string, json> pods; // pod_details by IP
};

/// A status poll as kube-burner reads it; nullopt (with `error`) for an
/// answer it would die of.
std::optional<bool> poll_once(httplib::Client& cli, const std::string& path,
                              std::string& error) {
  auto res = cli.Get(path.c_str());
  if (!res || res->status != 200) {
    error = "GET " + path + ": " + describe(res);
    return std::nullopt;
  }
  auto j = json::parse(res->body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("result")
      || !j["result"].is_boolean()) {
    error = "GET " + path
            + ": not {\"result\": bool}: " + res->body.substr(0, 200);
    return std::nullopt;
  }
  return j["result"].get<bool>();
}

snapshot take_snapshot(httplib::Client& cli) {
  snapshot s;
  auto res = cli.Get("/status?pods=1");
  if (!res || res->status != 200) {
    s.error = "GET /status?pods=1: " + describe(res);
    return s;
  }
  s.status = json::parse(res->body, nullptr, false);
  if (s.status.is_discarded() || !s.status.is_object()) {
    s.error = "GET /status?pods=1: not a JSON object";
    s.status = json::object();
    return s;
  }
  s.up = true;
  s.round = count_of(s.status, "round");
  s.phase = text_of(s.status, "phase");
  if (auto d = s.status.find("pod_details");
      d != s.status.end() && d->is_array())
    for (auto& pod : *d)
      s.pods[text_of(pod, "pod")] = pod;
  std::string error;
  s.connections = poll_once(cli, "/checkConnectionsStatus", error);
  s.stopped = poll_once(cli, "/checkStopStatus", error);
  if (!s.connections || !s.stopped)
    s.error = error;
  return s;
}

/// What one restart looked like.
struct restart_note {
  int sig = SIGKILL;
  std::string where;     // the kill point as it happened
  std::string pre_phase; // "" if the proxy was not asked (in-flight kinds)
  uint64_t pre_done = 0; // pods whose stage had ended, before the kill
  uint64_t pre_in_flight = 0;
  std::string ended;   // how the old proxy ended
  std::string resumed; // "round 1 (phase delivering)"; "" if not resumed
  uint64_t calls_in_flight = 0; // as the Resumed line says
  std::string post_phase;
  bool delivery_in_flight = false;   // a /check may have been out at the kill
  bool collection_in_flight = false; // ... a /results
};

struct point_result {
  point_plan plan;
  bool ok = true;
  std::vector<std::string> problems;
  std::vector<restart_note> restarts;
  std::vector<std::string> notes;
  double seconds = 0;
  double delivery_seconds = 0; // the proxy's own figures, at the end
  double collection_seconds = 0;
  uint64_t unconfirmed_by_stop = 0; // healthy pods unconfirmed by the kill
  uint64_t confirmed_after_kill = 0; // ... and those asked, then delivered
};

class point_failed : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// One kill point: a fresh fleet, a fresh state dir, the real proxy, one
/// round driven as kube-burner does with the kill (and restart) where the
/// plan says, then every check.
class point_run {
public:
  point_run(const options& opts, const podsim::scenario& s,
            const point_plan& plan, double delivery_s, double collection_s)
    : opts_(opts), s_(s), delivery_s_(delivery_s),
      collection_s_(collection_s) {
    r_.plan = plan;
    char name[32];
    snprintf(name, sizeof(name), "point-%03d", plan.index);
    base_ = (fs::path(opts.out) / name).string();
    state_dir_ = base_ + ".state";
  }

  point_result run() {
    auto began = clock_type::now();
    try {
      drive();
    } catch (const point_failed& e) {
      problem(e.what());
    } catch (const std::exception& e) {
      problem(std::string{"unexpected: "} + e.what());
    }
    finish();
    r_.seconds
      = std::chrono::duration<double>(clock_type::now() - began).count();
    r_.ok = r_.problems.empty();
    if (r_.ok && !opts_.keep) {
      std::error_code ec;
      fs::remove_all(state_dir_, ec);
      for (int i = 1; i <= proxies_; ++i)
        fs::remove(log_path(i), ec);
    }
    return std::move(r_);
  }

private:
  const point_plan& plan() const {
    return r_.plan;
  }

  void problem(const std::string& what) {
    r_.problems.push_back(what);
  }

  void require(bool condition, const std::string& what) {
    if (!condition)
      throw point_failed(what);
  }

  std::string log_path(int n) const {
    return base_ + ".proxy." + std::to_string(n) + ".log";
  }

  std::vector<std::string> proxy_args() const {
    std::vector<std::string> args{
      "--listen",      "127.0.0.1:0",
      "--client-port", std::to_string(fleet_->port()),
      "--state-dir",   state_dir_,
      // Each pod's /results reads are checked against collection's
      // attempts, so no sampling during the job (on by default); samples
      // through a kill are ctest sampling_podsim's.
      "--sample-interval", "0s"};
    auto flags = netpol::lab::proxy_flags(s_);
    args.insert(args.end(), flags.begin(), flags.end());
    return args;
  }

  void start_proxy() {
    ++proxies_;
    proxy_ = std::make_unique<proxy_process>();
    std::string error;
    if (!proxy_->start(opts_.proxy, proxy_args(), log_path(proxies_), error))
      throw point_failed("starting proxy #" + std::to_string(proxies_) + ": "
                         + error);
    auto port = proxy_->wait_for_port(10s, error);
    if (!port)
      throw point_failed("proxy #" + std::to_string(proxies_) + ": " + error);
    port_ = *port;
    cli_ = make_client(*port);
  }

  void drive() {
    pods_ = podsim::place_faults(s_);
    for (auto& pod : pods_)
      pod.profile.answers_status = opts_.answer_status;
    // The hang pod's calls time out (three per collection): first in the
    // list, they overlap the others' instead of trailing them.
    std::stable_partition(
      pods_.begin(), pods_.end(),
      [](const podsim::pod_spec& p) { return p.profile.kind == fault::hang; });
    std::vector<std::string> ips;
    for (auto& pod : pods_)
      ips.push_back(pod.ip);
    initiate_body_ = podsim::initiate_body(ips, s_.connections_per_pod);
    podsim::fleet_options fo;
    fo.port = 0;
    fo.mode = s_.mode;
    fo.seed = s_.seed;
    fleet_ = std::make_unique<podsim::fleet>(fo, pods_);
    std::string error;
    require(fleet_->start(error), "starting the fleet: " + error);
    std::error_code ec;
    fs::remove_all(state_dir_, ec);
    start_proxy();

    // POST /initiate.
    if (plan().kind == kill_kind::initiate_inflight) {
      int answer_status = 0;
      std::string answer_text;
      {
        auto cli = make_client(port_of_current());
        std::thread sender{[&] {
          auto res
            = cli->Post("/initiate", initiate_body_, "application/json");
          answer_status = res ? res->status : 0;
          answer_text = describe(res);
        }};
        std::this_thread::sleep_for(
          std::chrono::milliseconds(plan().delay_ms));
        kill_and_restart("POST /initiate sent "
                           + std::to_string(plan().delay_ms) + " ms before",
                         false);
        sender.join();
      }
      bool answered = answer_status == 200;
      auto round_after = restart_round_;
      if (answered) {
        note("/initiate was answered before the kill: not sent again");
        require(round_after == 1,
                "/initiate was answered 200 before the kill, "
                "but the restarted proxy holds round "
                  + std::to_string(round_after));
      } else {
        note(std::string{"/initiate not answered before the kill ("}
             + answer_text + "); the restarted proxy held "
             + (round_after == 0 ? "no round"
                                 : "round " + std::to_string(round_after))
             + ": sent again");
        auto res = cli_->Post("/initiate", initiate_body_, "application/json");
        require(res && res->status == 200,
                "POST /initiate (again, after the restart): " + describe(res));
        auto j = json::parse(res->body, nullptr, false);
        require(!j.is_discarded() && count_of(j, "round") == 1,
                "POST /initiate again answered round "
                  + (j.is_discarded() ? std::string{"?"}
                                      : std::to_string(count_of(j, "round")))
                  + ", expected 1 (the same body is idempotent)");
      }
    } else {
      auto res = cli_->Post("/initiate", initiate_body_, "application/json");
      require(res && res->status == 200, "POST /initiate: " + describe(res));
      if (plan().kind == kill_kind::after_initiate)
        kill_and_restart("right after /initiate's answer");
    }
    initiated_ = clock_type::now();
    // Not kube-burner's: before /stop the completeness report must not exist.
    if (auto early = cli_->Get("/report?all=1"))
      report_early_status_ = early->status;

    // Delivery.
    auto delivery_trigger = trigger{};
    if (plan().kind == kill_kind::delivery)
      delivery_trigger.at
        = initiated_ + seconds(plan().fraction * delivery_s_);
    // In the first half: calls are out, and the second kill finds none.
    if (plan().kind == kill_kind::thrice)
      delivery_trigger.at
        = initiated_ + seconds(plan().fraction * delivery_s_ / 2);
    if (plan().kind == kill_kind::delivery_backoff) {
      delivery_trigger.backoff = true; // the first backoff after an instant
      delivery_trigger.at
        = initiated_ + seconds(plan().fraction * delivery_s_ * 0.8);
    }
    if (plan().kind == kill_kind::early_stop) {
      // While a slow pod's /check is out: still out at the kill. The slow
      // pods take turns (by the point's fraction), so the stops fall in
      // different waves of delivery.
      auto slow = ips_of(fault::slow);
      delivery_trigger.pod = slow[std::min(
        slow.size() - 1,
        static_cast<size_t>(plan().fraction * static_cast<double>(slow.size())))];
      delivery_trigger.pod_state = "delivering";
      delivery_trigger.stop_instead = true;
    }
    if (plan().kind == kill_kind::check_in_flight) {
      delivery_trigger.pod = ip_of(fault::reject_check);
      delivery_trigger.pod_state = "delivering";
    }
    poll_until_true("/checkConnectionsStatus", delivery_trigger);

    // The job window: with pods that can be asked, a job long enough for
    // the asking (kube-burner's lasts minutes).
    if (opts_.answer_status)
      std::this_thread::sleep_for(std::chrono::milliseconds(opts_.job_ms));
    if (plan().kind == kill_kind::job_window
        || plan().kind == kill_kind::thrice) {
      std::this_thread::sleep_for(std::chrono::milliseconds(plan().delay_ms));
      kill_and_restart("job window, " + std::to_string(plan().delay_ms)
                       + " ms after delivery ended");
    }

    // GET /stop.
    if (plan().kind == kill_kind::stop_inflight) {
      int answer_status = 0;
      std::string answer_text;
      {
        auto cli = make_client(port_of_current());
        std::thread sender{[&] {
          auto res = cli->Get("/stop");
          answer_status = res ? res->status : 0;
          answer_text = describe(res);
        }};
        std::this_thread::sleep_for(
          std::chrono::milliseconds(plan().delay_ms));
        kill_and_restart("GET /stop sent " + std::to_string(plan().delay_ms)
                           + " ms before",
                         false);
        sender.join();
      }
      if (answer_status == 200) {
        note("/stop was answered before the kill"
             + std::string{plan().resend_stop ? "; sent again" : ""});
        if (plan().resend_stop)
          send_stop("GET /stop (again, after the restart)");
      } else {
        note("/stop not answered before the kill (" + answer_text
             + "): sent again");
        send_stop("GET /stop (again, after the restart)");
      }
    } else {
      send_stop("GET /stop");
      if (plan().kind == kill_kind::early_stop)
        kill_and_restart("right after a /stop sent while " + stop_reason_
                         + ", delivery not done");
    }
    stopped_ = clock_type::now();

    // Collection.
    auto collection_trigger = trigger{};
    if (plan().kind == kill_kind::collection)
      collection_trigger.at
        = stopped_ + seconds(plan().fraction * collection_s_);
    if (plan().kind == kill_kind::thrice)
      collection_trigger.at
        = stopped_ + seconds(plan().fraction2 * collection_s_);
    if (plan().kind == kill_kind::collection_backoff) {
      collection_trigger.backoff = true;
      collection_trigger.at
        = stopped_ + seconds(plan().fraction * collection_s_ * 0.6);
    }
    if (plan().kind == kill_kind::last_results_in_flight) {
      collection_trigger.pod = ip_of(fault::hang);
      collection_trigger.pod_state = "collecting";
      collection_trigger.pod_attempts = s_.proxy.retries + 1;
    }
    poll_until_true("/checkStopStatus", collection_trigger);

    if (plan().kind == kill_kind::before_results) {
      std::this_thread::sleep_for(std::chrono::milliseconds(plan().delay_ms));
      kill_and_restart("before /results, " + std::to_string(plan().delay_ms)
                       + " ms after /checkStopStatus was true");
    }

    auto res = cli_->Get("/results");
    require(res && res->status == 200, "GET /results: " + describe(res));
    have_results_ = true;
    results_body_ = res->body;

    if (plan().kind == kill_kind::after_results) {
      kill_and_restart("after /results");
      auto again = cli_->Get("/results");
      require(again && again->status == 200,
              "GET /results after the restart: " + describe(again));
      if (again->body != results_body_)
        problem("GET /results after the restart differs from the one before ("
                + std::to_string(again->body.size()) + " bytes, before "
                + std::to_string(results_body_.size()) + ")");
    }
    if (auto report = cli_->Get("/report?all=1")) {
      report_status_ = report->status;
      report_body_ = report->body;
    }
  }

  uint16_t port_of_current() const {
    return port_;
  }

  static clock_type::duration seconds(double s) {
    return std::chrono::duration_cast<clock_type::duration>(
      std::chrono::duration<double>(s));
  }

  void note(const std::string& text) {
    r_.notes.push_back(text);
  }

  void send_stop(const std::string& what) {
    auto res = cli_->Get("/stop");
    require(res && res->status == 200, what + ": " + describe(res));
  }

  /// When a poll loop kills the proxy: at an instant, or once a pod waits
  /// out a backoff. A trigger that has not fired when its phase ends fires
  /// then (the point is then at the phase's end; its line says so).
  struct trigger {
    std::optional<clock_type::time_point> at;
    bool backoff = false;
    bool stop_instead = false; // at `at`, the poll ends (early /stop)
    std::string pod;           // fires once this pod is in pod_state ...
    std::string pod_state;
    uint64_t pod_attempts = 0; // ... with at least this many attempts
    bool armed() const {
      return at.has_value() || backoff || !pod.empty();
    }
  };

  /// Every pod of a kind, in address order.
  std::vector<std::string> ips_of(fault kind) const {
    std::vector<std::string> result;
    for (auto& pod : pods_)
      if (pod.profile.kind == kind)
        result.push_back(pod.ip);
    if (result.empty())
      throw point_failed("no " + podsim::to_string(kind) + " pod in the fleet");
    return result;
  }

  std::string ip_of(fault kind) const {
    for (auto& pod : pods_)
      if (pod.profile.kind == kind)
        return pod.ip;
    throw point_failed("no " + podsim::to_string(kind) + " pod in the fleet");
  }

  void poll_until_true(const std::string& path, trigger t) {
    constexpr auto interval = 20ms;
    polling_stop_ = path == "/checkStopStatus";
    struct poll_ended {
      bool& flag;
      ~poll_ended() {
        flag = false;
      }
    } ended{polling_stop_};
    // A phase that stalls fails the point long before kube-burner's 30 min.
    auto limit_s = 10.0 + 5 * (delivery_s_ + collection_s_);
    auto limit = clock_type::now() + seconds(limit_s);
    bool fired = false;
    for (;;) {
      std::string error;
      auto done = poll_once(*cli_, path, error);
      require(done.has_value(), error);
      if (*done) {
        if (t.armed() && !fired && !t.stop_instead)
          kill_and_restart(path
                           + " had just answered true (the trigger did "
                             "not fire within the phase)");
        return;
      }
      if (clock_type::now() >= limit) {
        auto status = take_snapshot(*cli_);
        throw point_failed(
          path + " not true within "
          + std::to_string(static_cast<int>(limit_s))
          + " s: the round is stuck (phase " + status.phase + ", states "
          + status.status.value("states", json::object()).dump() + ")");
      }
      if (t.armed() && !fired) {
        if (!t.pod.empty()) {
          auto status = cli_->Get("/status?pods=1");
          if (status && status->status == 200) {
            auto j = json::parse(status->body, nullptr, false);
            if (!j.is_discarded())
              for (auto& d : j.value("pod_details", json::array()))
                if (text_of(d, "pod") == t.pod
                    && text_of(d, "state") == t.pod_state
                    && count_of(d, t.pod_state == "collecting"
                                     ? "collection_attempts"
                                     : "delivery_attempts")
                         >= t.pod_attempts) {
                  if (t.stop_instead) {
                    stop_reason_ = "pod " + t.pod + " " + t.pod_state;
                    return; // /stop goes now
                  }
                  fired = true;
                  auto attempts = count_of(d, t.pod_state == "collecting"
                                                ? "collection_attempts"
                                                : "delivery_attempts");
                  kill_and_restart("pod " + t.pod + " " + t.pod_state
                                   + ", attempt " + std::to_string(attempts));
                  break;
                }
            if (fired)
              continue; // the poll starts again
          }
          std::this_thread::sleep_for(2ms);
          continue;
        }
        if (t.backoff && t.at && clock_type::now() < *t.at) {
          std::this_thread::sleep_for(std::min<clock_type::duration>(
            interval, *t.at - clock_type::now()));
          continue;
        }
        if (t.backoff) {
          auto status = cli_->Get("/status");
          if (status && status->status == 200) {
            auto j = json::parse(status->body, nullptr, false);
            if (!j.is_discarded() && count_of(j, "waiting_retry") > 0) {
              fired = true;
              kill_and_restart(std::to_string(count_of(j, "waiting_retry"))
                               + " pod(s) waiting out a backoff");
              continue; // the poll starts again
            }
          }
          std::this_thread::sleep_for(3ms);
          continue;
        }
        auto now = clock_type::now();
        if (now >= *t.at) {
          fired = true;
          auto base = path == "/checkStopStatus" ? stopped_ : initiated_;
          char where[96];
          snprintf(where, sizeof(where), "%.3f s after %s",
                   std::chrono::duration<double>(now - base).count(),
                   path == "/checkStopStatus" ? "/stop" : "/initiate");
          kill_and_restart(where);
          continue; // the poll starts again
        }
        std::this_thread::sleep_for(
          std::min<clock_type::duration>(interval, *t.at - now));
        continue;
      }
      std::this_thread::sleep_for(interval);
    }
  }

  /// Kills the proxy (the plan's signal), starts it again on the same state
  /// dir and checks what it resumed against what it showed before.
  void kill_and_restart(const std::string& where, bool look_first = true) {
    restart_note n;
    // Unasked (a request in flight): only /initiate's leaves /checks out.
    n.delivery_in_flight
      = !look_first && plan().kind == kill_kind::initiate_inflight;
    n.collection_in_flight
      = !look_first && plan().kind == kill_kind::stop_inflight;
    n.sig = plan().sig;
    n.where = where;
    snapshot pre;
    if (look_first) {
      pre = take_snapshot(*cli_);
      require(pre.up && pre.error.empty(),
              "before the kill (" + where + "): " + pre.error);
      n.pre_phase = pre.phase;
      auto states = pre.status.value("states", json::object());
      n.delivery_in_flight
        = pre.phase == "delivering" || count_of(states, "delivering") > 0;
      n.collection_in_flight = pre.phase == "collecting";
      n.pre_in_flight
        = count_of(states, "delivering") + count_of(states, "collecting");
      n.pre_done = pre.phase == "delivering"
                     ? count_of(pre.status, "delivered")
                         + count_of(pre.status, "unconfirmed")
                         + count_of(pre.status, "delivery_failed")
                     : count_of(pre.status, "collected")
                         + count_of(pre.status, "collect_failed");
    }
    if (plan().sig == SIGKILL) {
      n.ended = proxy_->kill(SIGKILL);
      if (n.ended.find("signal 9") == std::string::npos)
        problem("kill -9 (" + where
                + "): the proxy ended otherwise: " + n.ended);
    } else {
      n.ended = proxy_->stop(10s);
      if (n.ended != "exit 0")
        problem("SIGTERM (" + where
                + "): the proxy did not exit cleanly: " + n.ended);
    }
    start_proxy();
    auto post = take_snapshot(*cli_);
    require(post.up && post.error.empty(),
            "after the restart (" + where + "): " + post.error);
    n.post_phase = post.phase;
    restart_round_ = post.round;

    // The Resumed line, logged before the port.
    auto log = read_text(log_path(proxies_));
    static const std::regex resumed{
      R"(Resumed round ([0-9]+) \(phase ([a-z_]+)\): .* ([0-9]+) calls were in flight, from (\S+))"};
    std::smatch m;
    bool has_line = std::regex_search(log, m, resumed);
    auto store_path = state_dir_ + "/netpol-proxy.db";
    auto persistence = text_of(post.status, "persistence");
    if (persistence != "on: " + store_path)
      problem("after the restart (" + where + "): /status persistence is \""
              + persistence + "\", expected \"on: " + store_path + "\"");
    bool round_expected = !look_first ? post.round > 0 : pre.round > 0;
    if (!look_first && post.round == 0 && has_line)
      problem("after the restart (" + where + "): the log says " + m[0].str()
              + " but /status holds no round");
    if (round_expected) {
      if (!has_line) {
        problem("after the restart (" + where
                + "): no \"Resumed round\" line in " + log_path(proxies_));
      } else {
        n.resumed = "round " + m[1].str() + " (phase " + m[2].str() + ")";
        n.calls_in_flight = std::stoull(m[3].str());
        if (n.calls_in_flight > s_.proxy.workers)
          problem("after the restart (" + where + "): the log says "
                  + m[3].str() + " calls were in flight, but only "
                  + std::to_string(s_.proxy.workers) + " workers call pods");
        // Delivered or collected, with nothing out just before: no call
        // can have started before the kill.
        if (look_first && n.calls_in_flight > 0 && n.pre_in_flight == 0
            && (pre.phase == "delivered" || pre.phase == "collected"))
          problem("after the restart (" + where + "): the log says "
                  + m[3].str() + " calls were in flight, but the round was "
                  + pre.phase
                  + " with no call out (calls cut off by an "
                    "earlier restart counted again?)");
        auto logged_round = std::stoull(m[1].str());
        auto logged_phase = m[2].str();
        if (logged_round != post.round)
          problem("after the restart (" + where + "): the log resumed round "
                  + m[1].str() + ", /status shows round "
                  + std::to_string(post.round));
        if (m[4].str() != store_path)
          problem("after the restart (" + where + "): resumed from "
                  + m[4].str() + ", expected " + store_path);
        if (look_first && phase_order(logged_phase) < phase_order(pre.phase))
          problem("after the restart (" + where + "): resumed in phase "
                  + logged_phase + ", but the round was " + pre.phase
                  + " before the kill");
        if (phase_order(logged_phase) > phase_order(post.phase))
          problem("after the restart (" + where + "): resumed in phase "
                  + logged_phase + ", then /status says " + post.phase);
      }
    }
    if (look_first) {
      compare(pre, post, where);
    }
    check_counts(post.status, "after the restart (" + where + ")");
    r_.restarts.push_back(std::move(n));
    // kube-burner sends /stop once; a second one must change nothing.
    if (polling_stop_ && plan().resend_stop) {
      send_stop("GET /stop (again, after the restart)");
      note("/stop sent again after the restart");
    }
  }

  /// What a restart must not change: the round, a poll that said true, a
  /// pod's settled outcome, attempts made.
  void compare(const snapshot& pre, const snapshot& post,
               const std::string& where) {
    auto at = "after the restart (" + where + "): ";
    if (post.round != pre.round)
      problem(at + "round " + std::to_string(post.round) + ", before the kill "
              + std::to_string(pre.round));
    if (phase_order(post.phase) < phase_order(pre.phase))
      problem(at + "phase " + post.phase + ", before the kill " + pre.phase);
    if (pre.connections.value_or(false) && !post.connections.value_or(false))
      problem(at
              + "/checkConnectionsStatus answers false, before the kill true");
    if (pre.stopped.value_or(false) && !post.stopped.value_or(false))
      problem(at + "/checkStopStatus answers false, before the kill true");
    for (auto& [ip, before] : pre.pods) {
      auto i = post.pods.find(ip);
      if (i == post.pods.end()) {
        problem(at + "pod " + ip + " is gone from /status?pods=1");
        continue;
      }
      auto& after = i->second;
      auto d0 = text_of(before, "delivery");
      auto d1 = text_of(after, "delivery");
      if ((d0 == "delivered" || d0 == "unconfirmed" || d0 == "failed")
          && d0 != d1)
        problem(at + "pod " + ip + " was " + d0 + " before the kill, now "
                + d1);
      auto s0 = text_of(before, "state");
      auto s1 = text_of(after, "state");
      if ((s0 == "collected" || s0 == "collect_failed") && s0 != s1)
        problem(at + "pod " + ip + " was " + s0 + " before the kill, now "
                + s1);
      for (auto key : {"delivery_attempts", "collection_attempts"})
        if (count_of(after, key) < count_of(before, key))
          problem(at + "pod " + ip + ": " + key + " "
                  + std::to_string(count_of(after, key)) + ", before the kill "
                  + std::to_string(count_of(before, key)));
    }
  }

  /// /status counts that must add up at any time, and once a phase is over.
  void check_counts(const json& status, const std::string& at) {
    auto pods = count_of(status, "pods");
    auto phase = text_of(status, "phase");
    if (status.value("round", 0u) == 0u && phase == "idle")
      return;
    if (pods != s_.pods)
      problem(at + ": " + std::to_string(pods) + " pods in /status, expected "
              + std::to_string(s_.pods));
    uint64_t sum = 0;
    auto states = status.value("states", json::object());
    for (auto& [state, n] : states.items())
      sum += n.get<uint64_t>();
    if (sum != pods)
      problem(at + ": pods per state add up to " + std::to_string(sum)
              + ", not " + std::to_string(pods));
    auto settled = count_of(status, "delivered")
                   + count_of(status, "unconfirmed")
                   + count_of(status, "delivery_failed");
    if (phase_order(phase) >= phase_order("delivered") && settled != pods)
      problem(
        at + ": phase " + phase + ", but delivered + unconfirmed + failed = "
        + std::to_string(settled) + " of " + std::to_string(pods) + " pods");
    if (settled > pods)
      problem(at + ": delivered + unconfirmed + failed = "
              + std::to_string(settled) + ", more than the "
              + std::to_string(pods) + " pods");
    auto ended
      = count_of(status, "collected") + count_of(status, "collect_failed");
    if (phase == "collected" && ended != pods)
      problem(at + ": collected, but collected + collect_failed = "
              + std::to_string(ended) + " of " + std::to_string(pods)
              + " pods");
  }

  /// Whether a kill (or clean stop) of this point may have caught a /check
  /// in flight: then any pod may end unconfirmed, saying so.
  bool delivery_interrupted() const {
    for (auto& n : r_.restarts)
      if (n.delivery_in_flight)
        return true;
    return false;
  }

  void finish() {
    std::vector<podsim::pod_report> fleet_view;
    json final_status = json::object();
    if (cli_ && proxy_ && proxy_->running()) {
      if (auto res = cli_->Get("/status?pods=1"); res && res->status == 200) {
        final_status = json::parse(res->body, nullptr, false);
        if (final_status.is_discarded())
          final_status = json::object();
      }
    }
    if (fleet_)
      fleet_view = fleet_->snapshot();
    if (proxy_) {
      auto ended = proxy_->stop(5s);
      if (ended != "exit 0" && ended != "not running")
        problem("the proxy did not end cleanly after the round: " + ended);
    }
    if (fleet_)
      fleet_->stop();
    if (!have_results_)
      return; // the round did not run to its end: the reason is said

    check_counts(final_status, "at the end");
    r_.delivery_seconds = final_status.value("delivery_seconds", 0.0);
    r_.collection_seconds = final_status.value("collection_seconds", 0.0);
    if (final_status.value("round", 0u) != 1u)
      problem("at the end: round " + final_status.value("round", json{}).dump()
              + ", expected 1");
    if (text_of(final_status, "phase") != "collected")
      problem("at the end: phase " + text_of(final_status, "phase"));

    // The lab's own checks: /results byte for byte, lists as sent, no
    // second /check, states against /results, completeness against the
    // truth, phases within their bounds.
    netpol::lab::run_result run;
    run.pods = pods_;
    run.initiate_body = initiate_body_;
    run.delivery_done = true;
    run.collection_done = true;
    run.stop_sent_at = 0;
    run.status = final_status;
    run.have_results = true;
    run.results_body = results_body_;
    run.report_early_status = report_early_status_;
    run.report_status = report_status_;
    run.report_body = report_body_;
    run.fleet = fleet_view;
    auto report = netpol::lab::analyse(s_, "crash", run);
    for (auto& p : report.problems)
      problem((p.pod.empty() ? std::string{} : "pod " + p.pod + " ")
              + (p.kind.empty() ? std::string{} : "(" + p.kind + ") ")
              + p.what);
    if (!report.results_valid_json)
      problem("/results is not a valid JSON object");
    if (!report.delivery.within)
      problem("delivery took " + std::to_string(report.delivery.seconds)
              + " s, over its bound "
              + std::to_string(report.delivery.bound.phase_seconds) + " s");
    if (!report.collection.within)
      problem("collection took " + std::to_string(report.collection.seconds)
              + " s, over its bound "
              + std::to_string(report.collection.bound.phase_seconds) + " s");

    // /report totals: every expected test is reported, missing or unknown.
    auto rep = json::parse(report_body_, nullptr, false);
    if (report_status_ != 200 || rep.is_discarded()
        || !rep.contains("completeness")) {
      problem("GET /report?all=1 after /results: HTTP "
              + std::to_string(report_status_));
    } else {
      auto& c = rep["completeness"];
      auto expected = count_of(c, "expected");
      auto sum = count_of(c, "reported") + count_of(c, "missing")
                 + count_of(c, "unknown");
      if (sum != expected)
        problem("/report: reported + missing + unknown = "
                + std::to_string(sum) + ", expected "
                + std::to_string(expected));
      if (count_of(rep, "round") != 1)
        problem("/report: round " + rep.value("round", json{}).dump());
    }

    // Per pod: the fleet's count of /check against the proxy's attempts
    // and the fault's rules.
    std::map<std::string, json> details;
    if (auto d = final_status.find("pod_details");
        d != final_status.end() && d->is_array())
      for (auto& pod : *d)
        details[text_of(pod, "pod")] = pod;
    auto max_attempts = s_.proxy.retries + 1;
    bool interrupted = delivery_interrupted();
    uint64_t collection_restarts = 0;
    for (auto& n : r_.restarts)
      collection_restarts += n.collection_in_flight;
    uint64_t stopped_unconfirmed = 0;
    for (auto& pod : fleet_view) {
      auto kind = podsim::to_string(pod.kind);
      auto at = "pod " + pod.ip + " (" + kind + "): ";
      auto i = details.find(pod.ip);
      if (i == details.end()) {
        problem(at + "not in /status?pods=1");
        continue;
      }
      auto& d = i->second;
      auto delivery = text_of(d, "delivery");
      auto state = text_of(d, "state");
      auto attempts = count_of(d, "delivery_attempts");
      auto collections = count_of(d, "collection_attempts");
      if (pod.duplicate_checks > 0)
        problem(at + std::to_string(pod.duplicate_checks)
                + " /check after it had accepted one");
      size_t allowed = 1;
      if (pod.kind == fault::down)
        allowed = 0;
      if (pod.kind == fault::flaky || pod.kind == fault::http_500)
        allowed = max_attempts;
      // A pod that can be asked, and said it took no list, may be sent it
      // again (harmless: it took none; one that took one never reads
      // another: duplicate_checks, above).
      size_t sent_again = opts_.answer_status ? 1 : 0;
      allowed += sent_again;
      if (pod.check_calls > allowed)
        problem(at + "read /check " + std::to_string(pod.check_calls)
                + " times, at most " + std::to_string(allowed) + " allowed");
      if (pod.check_calls > attempts + sent_again)
        problem(at + "read /check " + std::to_string(pod.check_calls)
                + " times, but the proxy counts " + std::to_string(attempts)
                + " delivery attempts (an attempt lost in the restart?)");
      // Collection commits are grouped (a /results is idempotent): a kill
      // loses at most the one attempt a pod made within the window.
      if (pod.results_calls > collections + collection_restarts)
        problem(at + "read /results " + std::to_string(pod.results_calls)
                + " times, but the proxy counts " + std::to_string(collections)
                + " collection attempts and " + std::to_string(collection_restarts)
                + " restarts in collection");
      // A /results out at a kill is asked again: one more call than the
      // retries allow, at most, per restart in collection.
      if (attempts > max_attempts)
        problem(at + std::to_string(attempts)
                + " delivery attempts, more than "
                + std::to_string(max_attempts));
      if (collections > max_attempts + collection_restarts)
        problem(at + std::to_string(collections)
                + " collection attempts, more "
                  "than "
                + std::to_string(max_attempts) + " + "
                + std::to_string(collection_restarts)
                + " (restarts in collection)");
      // Where the fault puts the pod without a kill.
      std::string want_delivery = "delivered";
      std::string want_state = "collected";
      switch (pod.kind) {
      case fault::down:
      case fault::http_500:
        want_delivery = "failed";
        want_state = "collect_failed";
        break;
      case fault::hang:
      case fault::reset:
        want_delivery = "unconfirmed";
        want_state = "collect_failed";
        break;
      case fault::reject_check: want_delivery = "failed"; break;
      default: break;
      }
      auto error = text_of(d, "delivery_error");
      bool by_stop = error.find("the proxy stopped while") != std::string::npos
                     || error.find("call cancelled") != std::string::npos;
      bool stopped_early
        = plan().kind == kill_kind::early_stop && delivery == "failed"
          && error.find("round stopped before") != std::string::npos;
      // Unconfirmed by a kill, then asked (GET /status) and delivered.
      if (delivery == "delivered" && by_stop && want_delivery == "delivered")
        ++r_.confirmed_after_kill;
      if (delivery != want_delivery && !stopped_early) {
        if (delivery == "unconfirmed" && interrupted && by_stop) {
          ++stopped_unconfirmed;
          // A clean stop knows what it sent: a /check it never sent (or
          // cancelled before the pod read it) must not cost the pod its list.
          if (plan().sig == SIGTERM && pod.check_calls < attempts)
            problem(
              at + "unconfirmed after the SIGTERM (" + error + "), but only "
              + std::to_string(pod.check_calls) + " of the "
              + std::to_string(attempts)
              + " /check attempts the proxy "
                "counts reached the pod: a clean stop left it without its "
                "list");
        } else {
          problem(at + "delivery " + delivery + ", expected " + want_delivery
                  + (error.empty() ? "" : " (" + error + ")"));
        }
      }
      if (state != want_state)
        problem(at + "state " + state + ", expected " + want_state
                + (text_of(d, "collection_error").empty()
                     ? ""
                     : " (" + text_of(d, "collection_error") + ")"));
    }
    r_.unconfirmed_by_stop = stopped_unconfirmed;
    auto restarts = static_cast<uint64_t>(r_.restarts.size());
    if (stopped_unconfirmed > restarts * s_.proxy.workers)
      problem(std::to_string(stopped_unconfirmed)
              + " pods unconfirmed by the kill, more than the "
              + std::to_string(s_.proxy.workers) + " calls in flight at most");
  }

  const options& opts_;
  const podsim::scenario& s_;
  double delivery_s_;
  double collection_s_;
  point_result r_;
  std::string base_;
  std::string state_dir_;
  std::vector<podsim::pod_spec> pods_;
  std::string initiate_body_;
  std::unique_ptr<podsim::fleet> fleet_;
  std::unique_ptr<proxy_process> proxy_;
  std::unique_ptr<httplib::Client> cli_;
  int proxies_ = 0;
  bool polling_stop_ = false; // in the /checkStopStatus poll
  std::string stop_reason_ = "?";
  uint16_t port_ = 0;
  uint64_t restart_round_ = 0;
  clock_type::time_point initiated_;
  clock_type::time_point stopped_;
  bool have_results_ = false;
  std::string results_body_;
  int report_early_status_ = 0;
  int report_status_ = 0;
  std::string report_body_;
};

std::string default_proxy_path() {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec)
    return "netpol-proxy";
  return (self.parent_path() / ".." / ".." / "netpol-proxy")
    .lexically_normal()
    .string();
}

std::string one_line(const point_result& r) {
  std::ostringstream line;
  char head[64];
  snprintf(head, sizeof(head), "point %3d %-26s", r.plan.index,
           ("[" + r.plan.label() + "]").c_str());
  line << head;
  if (r.restarts.empty()) {
    line << " no kill";
  }
  for (auto& n : r.restarts) {
    line << " " << (n.sig == SIGTERM ? "SIGTERM" : "kill -9") << " "
         << n.where;
    if (!n.pre_phase.empty())
      line << " (" << n.pre_phase << ", " << n.pre_done << " done, "
           << n.pre_in_flight << " in flight)";
    line << " -> "
         << (n.resumed.empty() ? std::string{"nothing to resume"}
                               : "resumed " + n.resumed + ", "
                                   + std::to_string(n.calls_in_flight)
                                   + " calls were in flight");
  }
  if (r.unconfirmed_by_stop > 0)
    line << "; " << r.unconfirmed_by_stop << " pod(s) unconfirmed by it";
  if (r.confirmed_after_kill > 0)
    line << "; " << r.confirmed_after_kill
         << " pod(s) unconfirmed by it, asked and delivered";
  for (auto& n : r.notes)
    line << "; " << n;
  char tail[96];
  snprintf(tail, sizeof(tail),
           "; delivery %.2f s, collection %.2f s, %.1f s: ",
           r.delivery_seconds, r.collection_seconds, r.seconds);
  line << tail << (r.ok ? "ok" : "FAIL");
  return line.str();
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  opts.proxy = default_proxy_path();
  std::string only;
  CLI::App app{"netpol-crash-test: kill the proxy at many points of a round, "
               "restart it on the same state dir, check nothing was lost or "
               "sent twice"};
  app
    .add_option("--points", opts.points,
                "SIGKILL points (besides the baseline)")
    ->check(CLI::Range(0, 100000));
  app
    .add_option(
      "--sigterms", opts.sigterms,
      "clean SIGTERM points mid-delivery, and as many mid-collection")
    ->check(CLI::Range(0, 1000));
  app
    .add_option(
      "--early-stops", opts.early_stops,
      "points that send /stop while /checks are out (not kube-burner's "
      "order) and kill right after it")
    ->check(CLI::Range(0, 1000));
  app.add_option("--seed", opts.seed,
                 "seeds the kill instants (and the fleet)");
  app.add_option("--only", only, "run only these points (e.g. 7 or 3,12-15)");
  app.add_option("--proxy", opts.proxy, "the proxy binary");
  app.add_option("--out", opts.out, "logs and state dirs of failed points");
  app.add_option("--pods", opts.pods, "pods per fleet")
    ->check(CLI::Range(16, 2000));
  app.add_flag("--answer-status", opts.answer_status,
               "the pods answer GET /status as netpol-client does; a job "
               "of --job between delivery and /stop");
  app.add_option("--job", opts.job_ms,
                 "milliseconds between delivery and /stop with "
                 "--answer-status")
    ->check(CLI::Range(0, 60000));
  app.add_flag("--keep", opts.keep,
               "keep logs and state dirs of passed points too");
  CLI11_PARSE(app, argc, argv);
  for (std::stringstream list{only}; list.good();) {
    std::string item;
    std::getline(list, item, ',');
    if (item.empty())
      continue;
    auto dash = item.find('-');
    try {
      int from = std::stoi(item.substr(0, dash));
      int to
        = dash == std::string::npos ? from : std::stoi(item.substr(dash + 1));
      for (int i = from; i <= to; ++i)
        opts.only.insert(i);
    } catch (const std::exception&) {
      std::cerr << "netpol-crash-test: --only: not a point list: " << only
                << "\n";
      return 2;
    }
  }
  std::error_code ec;
  fs::create_directories(opts.out, ec);
  if (ec) {
    std::cerr << "netpol-crash-test: cannot create " << opts.out << ": "
              << ec.message() << "\n";
    return 2;
  }

  auto started = clock_type::now();
  auto s = make_scenario(opts.pods, opts.seed);
  auto plans
    = schedule(opts.points, opts.sigterms, opts.early_stops, opts.seed);
  std::cout << "netpol-crash-test: " << opts.pods << " pods ("
            << s.proxy.workers << " workers, retries " << s.proxy.retries
            << ", request timeout "
            << podsim::format_duration(s.proxy.request_timeout) << "), seed "
            << opts.seed << ", " << opts.points << " kill points + "
            << 2 * opts.sigterms << " SIGTERM points"
            << (opts.early_stops ? " + " + std::to_string(opts.early_stops)
                                     + " early-stop points"
                                 : "")
            << ", proxy " << opts.proxy << std::endl;

  // The baseline: the phases' lengths, and the checks on a round without a
  // kill.
  point_plan baseline_plan;
  auto baseline = point_run{opts, s, baseline_plan, 0, 0}.run();
  std::cout << one_line(baseline) << std::endl;
  auto print_problems = [&](const point_result& r) {
    for (auto& p : r.problems)
      std::cout << "    - " << p << "\n";
    char name[32];
    snprintf(name, sizeof(name), "point-%03d", r.plan.index);
    std::cout << "    logs and state: " << (fs::path(opts.out) / name).string()
              << ".*\n    again: netpol-crash-test --seed " << opts.seed
              << " --points " << opts.points << " --sigterms " << opts.sigterms
              << (opts.early_stops
                    ? " --early-stops " + std::to_string(opts.early_stops)
                    : "")
              << " --only " << r.plan.index << std::endl;
  };
  if (!baseline.ok) {
    print_problems(baseline);
    std::cout << "netpol-crash-test: the baseline round (no kill) failed; "
                 "no kill point was tried\n";
    return 1;
  }
  auto delivery_s = std::max(baseline.delivery_seconds, 0.05);
  auto collection_s = std::max(baseline.collection_seconds, 0.05);

  int points = 0;
  std::map<phase_group, int> tried; // kills, by phase
  std::map<phase_group, int> failed_by;
  std::map<std::string, int> by_label;
  std::vector<const point_plan*> failed;
  std::vector<point_result> results;
  uint64_t unconfirmed_left = 0, confirmed = 0;
  for (auto& plan : plans) {
    if (!opts.only.empty() && !opts.only.count(plan.index))
      continue;
    auto r = point_run{opts, s, plan, delivery_s, collection_s}.run();
    auto group = group_of(plan.kind);
    ++points;
    ++tried[group];
    if (plan.kind == kill_kind::thrice) { // its second and third kills
      ++tried[phase_group::job_window];
      ++tried[phase_group::collection];
    }
    ++by_label[plan.label()];
    unconfirmed_left += r.unconfirmed_by_stop;
    confirmed += r.confirmed_after_kill;
    std::cout << one_line(r) << std::endl;
    if (!r.ok) {
      ++failed_by[group];
      failed.push_back(&plan);
      print_problems(r);
    }
  }
  int kills = 0;
  for (auto& [g, n] : tried)
    kills += n;
  std::cout << "\nkill points tried: " << points << ", " << kills
            << " kills and restarts (by phase: ";
  bool first = true;
  for (auto g : {phase_group::delivery, phase_group::job_window,
                 phase_group::collection, phase_group::after}) {
    std::cout << (first ? "" : ", ") << to_string(g) << " " << tried[g];
    if (failed_by[g] > 0)
      std::cout << " (" << failed_by[g] << " points failed)";
    first = false;
  }
  std::cout << ")\nby kind:";
  for (auto& [label, n] : by_label)
    std::cout << " " << label << " " << n;
  std::cout << "\nhealthy pods unconfirmed by a kill: " << confirmed
            << " asked and delivered, " << unconfirmed_left
            << " left unconfirmed"
            << (opts.answer_status ? "" : " (pods as the real client: "
                                          "--answer-status to ask them)");
  std::cout
    << "\nbaseline: delivery " << delivery_s << " s, collection "
    << collection_s << " s; whole test "
    << std::chrono::duration<double>(clock_type::now() - started).count()
    << " s\n";
  if (opts.answer_status && opts.only.empty() && confirmed == 0) {
    std::cout << "FAILED: with --answer-status, no pod unconfirmed by a kill "
                 "was asked and delivered\n";
    return 1;
  }
  if (!failed.empty()) {
    std::cout << "FAILED: " << failed.size() << " point(s):";
    for (auto* p : failed)
      std::cout << " " << p->index << " (" << p->label() << ", "
                << to_string(group_of(p->kind)) << ")";
    std::cout << std::endl;
    return 1;
  }
  std::cout << "all points ok" << std::endl;
  return 0;
}
