// netpol-lab: runs scenario files end to end against the real proxy binary
// and reports, per fault kind, where the pods ended up and whether every
// result reached /results unchanged (docs/experiments.md).

#include "lab/report.hpp"
#include "lab/runner.hpp"
#include "lab/svg.hpp"
#include "podsim/scenario.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

namespace {

namespace fs = std::filesystem;
using namespace netpol::lab;

/// The proxy built next to this binary: <build>/tests/lab/netpol-lab ->
/// <build>/netpol-proxy.
std::string default_proxy_path() {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec)
    return "netpol-proxy";
  return (self.parent_path() / ".." / ".." / "netpol-proxy")
    .lexically_normal()
    .string();
}

bool write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  return static_cast<bool>(out);
}

std::string now_utc() {
  auto t = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &utc);
  return buf;
}

} // namespace

/// --rounds: one proxy process, many rounds. Every round must pass the same
/// checks as a single run; after a warm-up, the proxy's RSS and open file
/// descriptors must stay flat (a leak per round shows within 100 rounds).
int soak(const podsim::scenario& s, const std::string& file,
         const run_options& opts, int rounds, const std::string& out_dir) {
  constexpr int warm_up = 5;
  std::string csv = "round,seconds,ok,rss_kb,open_fds\n";
  long warm_rss = -1;
  long warm_fds = -1;
  long first_rss = -1;
  long first_fds = -1;
  long last_rss = -1;
  long last_fds = -1;
  long peak_rss = 0;
  int failed_rounds = 0;
  int ran = 0;
  auto started = std::chrono::steady_clock::now();
  auto error = run_soak(s, opts, rounds, [&](soak_round& r) {
    auto report = analyse(s, file, r.run);
    bool ok = report.ok();
    ++ran;
    if (!ok)
      ++failed_rounds;
    if (r.round == 1) {
      first_rss = r.rss_kb;
      first_fds = r.open_fds;
    }
    if (r.round == warm_up) {
      warm_rss = r.rss_kb;
      warm_fds = r.open_fds;
    }
    last_rss = r.rss_kb;
    last_fds = r.open_fds;
    peak_rss = std::max(peak_rss, r.rss_kb);
    csv += std::to_string(r.round) + "," + std::to_string(r.run.wall_seconds)
           + "," + (ok ? "1" : "0") + "," + std::to_string(r.rss_kb) + ","
           + std::to_string(r.open_fds) + "\n";
    std::cerr << "netpol-lab: round " << r.round << "/" << rounds << ": "
              << (ok ? "ok" : "FAILED") << ", "
              << static_cast<int>(r.run.wall_seconds * 1000) << " ms, rss "
              << r.rss_kb / 1024.0 << " MB, fds " << r.open_fds
              << (ok ? "" : " (" + (report.error.empty()
                                      ? std::to_string(report.problems.size())
                                          + " integrity problems"
                                      : report.error)
                              + ")")
              << std::endl;
    return failed_rounds < 3; // stop early once it is clearly broken
  });
  if (!error.empty()) {
    std::cerr << "netpol-lab: soak could not run: " << error << "\n";
    return 1;
  }
  write_file(fs::path{out_dir} / (s.name + ".soak.csv"), csv);
  // Allowances: allocator caches and thread stacks settle within a few
  // rounds; a leak of even 1 KB per pod and round would exceed these.
  bool rss_flat = warm_rss < 0 || last_rss <= warm_rss + warm_rss / 10 + 2048;
  bool fds_flat = warm_fds < 0 || last_fds <= warm_fds + 2;
  auto seconds = std::chrono::duration<double>(
                   std::chrono::steady_clock::now() - started)
                   .count();
  std::cout << "soak " << s.name << ": " << ran << " rounds of " << s.pods
            << " pods in " << static_cast<int>(seconds) << " s, "
            << failed_rounds << " failed; RSS first " << first_rss / 1024.0
            << " MB, after round " << warm_up << " " << warm_rss / 1024.0
            << " MB, last " << last_rss / 1024.0 << " MB, peak "
            << peak_rss / 1024.0 << " MB" << (rss_flat ? "" : " (GROWING)")
            << "; open fds first " << first_fds << ", after round " << warm_up
            << " " << warm_fds << ", last " << last_fds
            << (fds_flat ? "" : " (GROWING)") << "\n";
  bool ok = ran == rounds && failed_rounds == 0 && rss_flat && fds_flat;
  return ok ? 0 : 1;
}

int main(int argc, char** argv) {
  CLI::App app{"netpol-lab: runs fault-injection scenarios against "
               "netpol-proxy and reports what the proxy did with each pod"};
  std::vector<std::string> files;
  std::string proxy_path = default_proxy_path();
  std::string out_dir = "lab-report";
  std::string max_wait_text = "10m";
  std::string sample_text = "100ms";
  app.add_option("scenarios", files, "Scenario files (JSON)")
    ->required()
    ->check(CLI::ExistingFile);
  app.add_option("--proxy", proxy_path, "netpol-proxy binary")
    ->capture_default_str();
  app.add_option("--out", out_dir,
                 "Directory for report.md, summary.json, <scenario>.svg and "
                 "logs/ (proxy logs, /status samples as CSV)")
    ->capture_default_str();
  app.add_option("--max-wait", max_wait_text,
                 "Longest wait for one phase before the round counts as "
                 "stuck")
    ->capture_default_str();
  app.add_option("--sample-interval", sample_text,
                 "Time between GET /status samples")
    ->capture_default_str();
  int rounds = 1;
  app
    .add_option("--rounds", rounds,
                "Soak: run one scenario this many rounds against one proxy "
                "process, checking every round's results and that the "
                "proxy's memory and open files do not grow")
    ->check(CLI::Range(1, 100000))
    ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto max_wait = podsim::parse_milliseconds(max_wait_text);
  auto sample_interval = podsim::parse_milliseconds(sample_text);
  if (!max_wait || max_wait->count() < 1000 || !sample_interval
      || sample_interval->count() < 10) {
    std::cerr << "netpol-lab: --max-wait takes a duration of at least 1s, "
                 "--sample-interval one of at least 10ms (e.g. 10m, 100ms)\n";
    return 2;
  }

  // Every file is checked before anything runs: a typo in the third
  // scenario should not surface after the first two took minutes.
  std::vector<podsim::scenario> plans;
  std::set<std::string> names;
  for (auto& file : files) {
    try {
      plans.push_back(podsim::load_scenario(file));
    } catch (const podsim::scenario_error& e) {
      std::cerr << "netpol-lab: " << e.what() << "\n";
      return 2;
    }
    if (!names.insert(plans.back().name).second) {
      std::cerr << "netpol-lab: two scenarios are named \""
                << plans.back().name << "\"; their reports would collide\n";
      return 2;
    }
  }

  std::error_code ec;
  fs::create_directories(fs::path{out_dir} / "logs", ec);
  if (ec) {
    std::cerr << "netpol-lab: cannot create " << out_dir << ": "
              << ec.message() << "\n";
    return 2;
  }
  run_options opts;
  opts.proxy_path = proxy_path;
  opts.log_dir = (fs::path{out_dir} / "logs").string();
  opts.sample_interval = *sample_interval;
  opts.max_wait = std::chrono::duration_cast<std::chrono::seconds>(*max_wait);

  if (rounds > 1) {
    if (plans.size() != 1) {
      std::cerr << "netpol-lab: --rounds takes exactly one scenario\n";
      return 2;
    }
    return soak(plans[0], files[0], opts, rounds, out_dir);
  }

  std::vector<scenario_report> reports;
  for (size_t i = 0; i < plans.size(); ++i) {
    const auto& s = plans[i];
    std::cerr << "netpol-lab: running " << s.name << " (" << files[i] << "): "
              << s.pods << " pods" << std::endl;
    auto run = run_scenario(s, opts);
    auto report = analyse(s, files[i], run);
    report.chart = s.name + ".svg";
    auto title = s.name + ": pods by state, " + std::to_string(s.pods)
                 + " pods, " + std::to_string(s.proxy.workers) + " workers";
    if (!write_file(fs::path{out_dir} / report.chart,
                    state_chart(title, run.samples, run.stop_sent_at,
                                s.pods))) {
      std::cerr << "netpol-lab: cannot write the chart\n";
      report.chart.clear();
    }
    write_file(fs::path{opts.log_dir} / (s.name + ".samples.csv"),
               samples_csv(run.samples));
    std::cout << markdown_section(report) << std::flush;
    if (!report.ok())
      std::cerr << "netpol-lab: " << s.name << " FAILED; proxy log: "
                << run.proxy_log << std::endl;
    reports.push_back(std::move(report));
  }

  auto overview = markdown_overview(reports);
  std::cout << overview;
  std::string md = "# netpol-lab report\n\nMeasured " + now_utc() + " on "
                   + std::to_string(std::thread::hardware_concurrency())
                   + " cores; fleet and proxy on the same machine, loopback "
                     "only.\n\n"
                   + overview + "\n";
  for (auto& report : reports)
    md += markdown_section(report);
  auto summary = summary_json(reports);
  if (!write_file(fs::path{out_dir} / "report.md", md)
      || !write_file(fs::path{out_dir} / "summary.json",
                     summary.dump(2) + "\n")) {
    std::cerr << "netpol-lab: cannot write the report to " << out_dir << "\n";
    return 2;
  }
  std::cerr << "netpol-lab: report in " << out_dir << "/report.md, "
            << out_dir << "/summary.json" << std::endl;
  return summary["ok"].get<bool>() ? 0 : 1;
}
