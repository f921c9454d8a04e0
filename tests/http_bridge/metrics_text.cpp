#define CAF_SUITE metrics_text

#include "http_bridge/metrics_text.hpp"

#include "support/test.hpp"

#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace netpol;

namespace {

/// A strict reading of the Prometheus text format 0.0.4: every line is HELP,
/// TYPE or a sample; each family is typed once, before its samples; counter
/// names end in _total; histogram buckets are cumulative and end in +Inf,
/// which equals _count. Returns the samples as "name{labels}" -> value.
std::map<std::string, double> parse_exposition(const std::string& text) {
  static const std::regex help{R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)"};
  static const std::regex type{
    R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))"};
  static const std::regex sample{
    R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})? (-?[0-9.eE+-]+|\+Inf|NaN))"};
  std::map<std::string, std::string> types;
  std::map<std::string, double> samples;
  std::istringstream in{text};
  std::string line;
  std::smatch m;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (std::regex_match(line, m, help))
      continue;
    if (std::regex_match(line, m, type)) {
      if (!types.emplace(m[1], m[2]).second)
        CAF_FAIL("line " << line_no << ": family typed twice: " << line);
      if (m[2] == "counter" && !std::regex_search(m[1].str(),
                                                   std::regex{"_total$"}))
        CAF_FAIL("line " << line_no << ": counter without _total: " << line);
      continue;
    }
    if (!std::regex_match(line, m, sample))
      CAF_FAIL("line " << line_no << ": not in the format: '" << line << "'");
    auto name = m[1].str();
    auto family = std::regex_replace(name,
                                     std::regex{"_(bucket|sum|count)$"}, "");
    if (types.count(name) == 0
        && !(types.count(family) > 0 && types[family] == "histogram"))
      CAF_FAIL("line " << line_no << ": sample before its TYPE: " << line);
    auto key = name + m[2].str();
    if (!samples.emplace(key, std::stod(m[5].str() == "+Inf" ? "inf"
                                                             : m[5].str()))
           .second)
      CAF_FAIL("line " << line_no << ": duplicate sample: " << line);
  }
  return samples;
}

} // namespace

TEST(the exposition is strict Prometheus text with the round in it) {
  proxy_metrics m;
  m.workers = 20;
  m.rounds = 2;
  m.status.round = 2;
  m.status.current = phase::collecting;
  m.status.counts[static_cast<size_t>(pod_state::collecting)] = 7;
  m.worker_restarts = 1;
  m.retries[0] = 4;
  m.calls[static_cast<size_t>(call_status::ok)] = 10;     // delivery ok
  m.calls[static_cast<size_t>(call_status::refused)] = 4; // delivery refused
  // 14 delivery calls: 9 under 1ms, 12 under 10ms, all under 0.25s.
  for (size_t i = 0; i < call_latency_bucket_count; ++i)
    m.latency_buckets[i] = call_latency_buckets[i] < 0.0025
                             ? 9
                             : (call_latency_buckets[i] < 0.25 ? 12 : 14);
  m.latency_sum[0] = 0.5;
  m.delivery_duration = std::chrono::milliseconds(1500);
  auto text = prometheus_text(m, front_counters{}, "1.2.3");
  auto samples = parse_exposition(text);
  // prometheus-cpp writes a series' labels sorted by name (le last).
  CHECK_EQUAL(samples["netpol_proxy_build_info{commit=\"" NETPOL_PROXY_COMMIT
                      "\",version=\"1.2.3\"}"],
              1);
  CHECK_EQUAL(samples["netpol_proxy_rounds_total"], 2);
  CHECK_EQUAL(samples["netpol_proxy_phase{phase=\"collecting\"}"], 1);
  CHECK_EQUAL(samples["netpol_proxy_phase{phase=\"delivered\"}"], 0);
  CHECK_EQUAL(samples["netpol_proxy_pods{state=\"collecting\"}"], 7);
  CHECK_EQUAL(samples["netpol_proxy_worker_restarts_total"], 1);
  CHECK_EQUAL(samples["netpol_proxy_retries_total{stage=\"delivery\"}"], 4);
  CHECK_EQUAL(samples["netpol_proxy_pod_calls_total{outcome=\"refused\","
                      "stage=\"delivery\"}"],
              4);
  CHECK_EQUAL(samples["netpol_proxy_pod_calls_total{outcome=\"ok\","
                      "stage=\"delivery\"}"],
              10);
  CHECK_EQUAL(samples["netpol_proxy_phase_duration_seconds{phase=\"delivery\"}"],
              1.5);
  MESSAGE("families and series come in the order they were added");
  auto at = [&](const std::string& what) {
    auto pos = text.find(what);
    REQUIRE(pos != std::string::npos);
    return pos;
  };
  CAF_CHECK_LESS(at("# TYPE netpol_proxy_build_info gauge"),
                 at("# TYPE netpol_proxy_workers gauge"));
  CAF_CHECK_LESS(at("# TYPE netpol_proxy_workers gauge"),
                 at("# TYPE netpol_proxy_rounds_total counter"));
  CAF_CHECK_LESS(at("# TYPE netpol_proxy_rounds_total counter"),
                 at("# TYPE netpol_proxy_round gauge"));
  CAF_CHECK_LESS(at("netpol_proxy_phase{phase=\"idle\"}"),
                 at("netpol_proxy_phase{phase=\"delivering\"}"));
  CAF_CHECK_LESS(at("netpol_proxy_phase{phase=\"delivering\"}"),
                 at("netpol_proxy_phase{phase=\"collected\"}"));
  CAF_CHECK_LESS(at("# TYPE netpol_proxy_pod_call_duration_seconds histogram"),
                 at("# TYPE netpol_proxy_rounds_superseded_total counter"));
  MESSAGE("histogram buckets are cumulative and +Inf equals the count");
  double previous = 0;
  for (auto bound : call_latency_buckets) {
    std::ostringstream key;
    key << "netpol_proxy_pod_call_duration_seconds_bucket{stage=\"delivery\","
           "le=\""
        << bound << "\"}";
    REQUIRE_EQUAL(samples.count(key.str()), 1u);
    CHECK_LESS_OR_EQUAL(previous, samples[key.str()]);
    previous = samples[key.str()];
  }
  auto inf = samples["netpol_proxy_pod_call_duration_seconds_bucket{stage="
                     "\"delivery\",le=\"+Inf\"}"];
  CHECK_EQUAL(inf, 14);
  CHECK_LESS_OR_EQUAL(previous, inf);
  CHECK_EQUAL(
    samples["netpol_proxy_pod_call_duration_seconds_count{stage=\"delivery\"}"],
    inf);
  CHECK_EQUAL(
    samples["netpol_proxy_pod_call_duration_seconds_sum{stage=\"delivery\"}"],
    0.5);
}
