#include "lab/runner.hpp"

#include "lab/bounds.hpp"
#include "lab/proxy_process.hpp"
#include "messages/types.hpp"

#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

namespace netpol::lab {

namespace {

using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

double since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::unique_ptr<httplib::Client> make_client(uint16_t port) {
  auto cli = std::make_unique<httplib::Client>("127.0.0.1", port);
  cli->set_connection_timeout(std::chrono::seconds(5));
  // /results and /status?pods=1 of a large fleet are tens of megabytes.
  cli->set_read_timeout(std::chrono::seconds(120));
  cli->set_write_timeout(std::chrono::seconds(120));
  cli->set_tcp_nodelay(true);
  return cli;
}

std::string describe(const httplib::Result& res) {
  if (!res)
    return httplib::to_string(res.error());
  auto body = res->body.substr(0, 300);
  while (!body.empty() && body.back() == '\n')
    body.pop_back();
  return "HTTP " + std::to_string(res->status) + ": " + body;
}

sample parse_sample(const json& j, double seconds) {
  sample out;
  out.seconds = seconds;
  out.phase = j.value("phase", "");
  out.states.assign(pod_state_count, 0);
  if (auto states = j.find("states");
      states != j.end() && states->is_object())
    for (size_t i = 0; i < pod_state_count; ++i)
      out.states[i] = states->value(to_string(static_cast<pod_state>(i)), 0u);
  out.waiting_retry = j.value("waiting_retry", 0u);
  out.calls = j.value("calls", uint64_t{0});
  out.retries = j.value("retries", uint64_t{0});
  return out;
}

/// GET /status every `interval` on its own thread and connection, until
/// finish(); the last sample is taken after finish() is called, so the
/// series ends with the round's final counts.
class status_sampler {
public:
  status_sampler(uint16_t port, clock_type::time_point start,
                 std::chrono::milliseconds interval)
    : port_(port), start_(start), interval_(interval) {
    thread_ = std::thread{[this] { loop(); }};
  }

  ~status_sampler() {
    finish();
  }

  std::vector<sample> finish() {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
      thread_.join();
    return std::move(samples_);
  }

private:
  void loop() {
    auto cli = make_client(port_);
    for (;;) {
      bool last;
      {
        std::lock_guard<std::mutex> guard{mutex_};
        last = stopping_;
      }
      auto at = since(start_);
      if (auto res = cli->Get("/status"); res && res->status == 200) {
        auto j = json::parse(res->body, nullptr, false);
        if (!j.is_discarded())
          samples_.push_back(parse_sample(j, at));
      }
      if (last)
        return;
      std::unique_lock<std::mutex> lock{mutex_};
      wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
  }

  uint16_t port_;
  clock_type::time_point start_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<sample> samples_; // only the sampler thread touches it
  std::thread thread_;
};

/// Polls a status path as kube-burner does until "result" is true. Returns
/// false on timeout; throws std::runtime_error on an answer kube-burner
/// would die of (transport error, non-200, not the expected JSON).
bool poll_until_done(httplib::Client& cli, const std::string& path,
                     double limit_seconds, std::chrono::milliseconds interval) {
  auto start = clock_type::now();
  for (;;) {
    auto res = cli.Get(path.c_str());
    if (!res || res->status != 200)
      throw std::runtime_error("GET " + path + ": " + describe(res));
    auto j = json::parse(res->body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("result")
        || !j["result"].is_boolean())
      throw std::runtime_error("GET " + path + ": not {\"result\": bool}: "
                               + res->body.substr(0, 200));
    if (j["result"].get<bool>())
      return true;
    if (since(start) > limit_seconds)
      return false;
    std::this_thread::sleep_for(interval);
  }
}

/// The kube-burner round, with /status sampled throughout.
void drive(uint16_t port, const podsim::scenario& s, const run_options& opts,
           run_result& out) {
  auto cli = make_client(port);
  auto limit = std::min(
    worst_case_bound(s.proxy, s.pods).phase_seconds + 30.0,
    static_cast<double>(opts.max_wait.count()));
  auto start = clock_type::now();
  auto res = cli->Post("/initiate", out.initiate_body, "application/json");
  if (!res || res->status != 200) {
    out.error = "POST /initiate: " + describe(res);
    return;
  }
  status_sampler sampler{port, start, opts.sample_interval};
  // Collection has not started: the completeness report must not exist yet.
  if (auto early = cli->Get("/report?all=1"))
    out.report_early_status = early->status;
  try {
    out.delivery_done = poll_until_done(*cli, "/checkConnectionsStatus",
                                        limit, opts.poll_interval);
    if (!out.delivery_done)
      out.error = "delivery did not finish within "
                  + std::to_string(static_cast<int>(limit)) + "s";
    // Stopped either way: the proxy gives up pods it has not reached.
    out.stop_sent_at = since(start);
    res = cli->Get("/stop");
    if (!res || res->status != 200)
      throw std::runtime_error("GET /stop: " + describe(res));
    out.collection_done = poll_until_done(*cli, "/checkStopStatus", limit,
                                          opts.poll_interval);
    if (!out.collection_done && out.error.empty())
      out.error = "collection did not finish within "
                  + std::to_string(static_cast<int>(limit)) + "s";
    if (out.collection_done) {
      res = cli->Get("/results");
      if (!res || res->status != 200)
        throw std::runtime_error("GET /results: " + describe(res));
      out.have_results = true;
      out.results_body = std::move(res->body);
      // Not a kube-burner call: a failure here is the report's to judge.
      if (auto report = cli->Get("/report?all=1")) {
        out.report_status = report->status;
        out.report_body = std::move(report->body);
      }
    }
  } catch (const std::runtime_error& e) {
    if (out.error.empty())
      out.error = e.what();
  }
  out.samples = sampler.finish();
  res = cli->Get("/status?pods=1");
  if (res && res->status == 200) {
    out.status = json::parse(res->body, nullptr, false);
    if (out.status.is_discarded())
      out.status = json::object();
  } else if (out.error.empty()) {
    out.error = "GET /status?pods=1: " + describe(res);
  }
}

} // namespace

std::vector<std::string> proxy_flags(const podsim::scenario& s) {
  const auto& p = s.proxy;
  std::vector<std::string> flags{
    "--workers",         std::to_string(p.workers),
    "--connect-timeout", podsim::format_duration(p.connect_timeout),
    "--request-timeout", podsim::format_duration(p.request_timeout),
    "--retries",         std::to_string(p.retries),
    "--backoff-base",    podsim::format_duration(p.backoff_base),
    "--backoff-cap",     podsim::format_duration(p.backoff_cap),
  };
  flags.insert(flags.end(), p.extra_args.begin(), p.extra_args.end());
  return flags;
}

run_result run_scenario(const podsim::scenario& s, const run_options& opts) {
  auto began = clock_type::now();
  run_result out;
  out.pods = podsim::place_faults(s);
  std::vector<std::string> ips;
  ips.reserve(out.pods.size());
  for (auto& pod : out.pods)
    ips.push_back(pod.ip);
  out.initiate_body = podsim::initiate_body(ips, s.connections_per_pod);

  podsim::fleet_options fleet_opts;
  fleet_opts.port = 0; // a free port: runs never collide
  fleet_opts.mode = s.mode;
  fleet_opts.threads = s.threads;
  fleet_opts.seed = s.seed;
  podsim::fleet fleet{fleet_opts, out.pods};
  std::string error;
  if (!fleet.start(error)) {
    out.error = "starting the fleet: " + error;
    out.wall_seconds = since(began);
    return out;
  }

  proxy_process proxy;
  out.proxy_log = opts.log_dir + "/" + s.name + ".proxy.log";
  // Its own round store: runs never meet, and the lab runs the proxy as
  // deployed, with persistence on.
  auto state_dir = opts.log_dir + "/" + s.name + ".state";
  std::error_code ignored;
  std::filesystem::remove_all(state_dir, ignored);
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--client-port",
                                std::to_string(fleet.port()), "--state-dir",
                                state_dir};
  auto flags = proxy_flags(s);
  args.insert(args.end(), flags.begin(), flags.end());
  if (!proxy.start(opts.proxy_path, args, out.proxy_log, error)) {
    out.error = error;
  } else if (auto port = proxy.wait_for_port(std::chrono::seconds(10),
                                             error)) {
    drive(*port, s, opts, out);
  } else {
    out.error = error;
  }
  out.fleet = fleet.snapshot();
  // Calls still in flight (a round cut short) end within their timeouts.
  auto grace = s.proxy.connect_timeout + s.proxy.request_timeout
               + std::chrono::seconds(5);
  out.proxy_exit = proxy.stop(
    std::chrono::duration_cast<std::chrono::milliseconds>(grace));
  std::filesystem::remove_all(state_dir, ignored); // a lab run's own
  fleet.stop();
  out.wall_seconds = since(began);
  return out;
}

namespace {

long proc_rss_kb(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

long proc_open_fds(pid_t pid) {
  std::error_code ec;
  long count = 0;
  for (auto it = std::filesystem::directory_iterator{
         "/proc/" + std::to_string(pid) + "/fd", ec};
       !ec && it != std::filesystem::directory_iterator{}; it.increment(ec))
    ++count;
  return ec ? -1 : count;
}

} // namespace

std::string run_soak(const podsim::scenario& s, const run_options& opts,
                     int rounds,
                     const std::function<bool(soak_round&)>& each) {
  auto pods = podsim::place_faults(s);
  std::vector<std::string> ips;
  for (auto& pod : pods)
    ips.push_back(pod.ip);
  auto initiate = podsim::initiate_body(ips, s.connections_per_pod);
  podsim::fleet_options fleet_opts;
  fleet_opts.port = 0; // the first fleet picks; later ones reuse its port
  fleet_opts.mode = s.mode;
  fleet_opts.threads = s.threads;
  fleet_opts.seed = s.seed;
  auto fleet = std::make_unique<podsim::fleet>(fleet_opts, pods);
  std::string error;
  if (!fleet->start(error))
    return "starting the fleet: " + error;
  fleet_opts.port = fleet->port();
  proxy_process proxy;
  auto log = opts.log_dir + "/" + s.name + ".soak.proxy.log";
  auto state_dir = opts.log_dir + "/" + s.name + ".soak.state";
  std::error_code ignored;
  std::filesystem::remove_all(state_dir, ignored);
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--client-port",
                                std::to_string(fleet_opts.port), "--state-dir",
                                state_dir};
  auto flags = proxy_flags(s);
  args.insert(args.end(), flags.begin(), flags.end());
  if (!proxy.start(opts.proxy_path, args, log, error))
    return error;
  auto port = proxy.wait_for_port(std::chrono::seconds(10), error);
  if (!port)
    return error;
  for (int round = 1; round <= rounds; ++round) {
    if (!fleet) {
      fleet = std::make_unique<podsim::fleet>(fleet_opts, pods);
      if (!fleet->start(error))
        return "round " + std::to_string(round) + ": starting the fleet: "
               + error;
    }
    soak_round r;
    r.round = round;
    r.run.pods = pods;
    r.run.initiate_body = initiate;
    r.run.proxy_log = log;
    auto began = clock_type::now();
    drive(*port, s, opts, r.run);
    r.run.fleet = fleet->snapshot();
    r.run.wall_seconds = since(began);
    fleet.reset(); // stops it; hung connections are released
    r.rss_kb = proc_rss_kb(proxy.pid());
    r.open_fds = proc_open_fds(proxy.pid());
    if (!each(r))
      break;
  }
  auto grace = s.proxy.connect_timeout + s.proxy.request_timeout
               + std::chrono::seconds(5);
  proxy.stop(std::chrono::duration_cast<std::chrono::milliseconds>(grace));
  std::filesystem::remove_all(state_dir, ignored);
  return {};
}

} // namespace netpol::lab
