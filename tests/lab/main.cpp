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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto max_wait = podsim::parse_duration(max_wait_text);
  auto sample_interval = podsim::parse_duration(sample_text);
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
