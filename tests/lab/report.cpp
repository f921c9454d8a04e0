#include "lab/report.hpp"

#include "messages/types.hpp"
#include "podsim/json_scan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <string_view>
#include <unordered_map>

namespace netpol::lab {

namespace {

using json = nlohmann::json;
using podsim::fault;

constexpr fault all_faults[] = {
  fault::none,     fault::down,  fault::hang,     fault::reset,
  fault::http_500, fault::flaky, fault::slow,     fault::bad_json,
  fault::reject_check, fault::crash_after_check,
};

/// The raw value of every member of the /results object, by pod IP, as the
/// proxy wrote it: everything after `"ip":` up to the next `,` or `}`. Stops
/// at the first malformed member (the JSON check reports that).
std::unordered_map<std::string, std::string_view>
raw_members(std::string_view body) {
  namespace scan = podsim::json_scan;
  std::unordered_map<std::string, std::string_view> out;
  auto pos = scan::skip_whitespace(body, 0);
  if (pos >= body.size() || body[pos] != '{')
    return out;
  pos = scan::skip_whitespace(body, pos + 1);
  while (pos < body.size() && body[pos] == '"') {
    auto key_end = scan::skip_string(body, pos);
    if (key_end == scan::npos)
      break;
    std::string key{body.substr(pos + 1, key_end - pos - 2)};
    pos = scan::skip_whitespace(body, key_end);
    if (pos >= body.size() || body[pos] != ':')
      break;
    auto value_start = pos + 1;
    auto value_end = scan::skip_value(body,
                                      scan::skip_whitespace(body, value_start));
    if (value_end == scan::npos)
      break;
    pos = scan::skip_whitespace(body, value_end);
    out.emplace(std::move(key), body.substr(value_start, pos - value_start));
    if (pos >= body.size() || body[pos] != ',')
      break;
    pos = scan::skip_whitespace(body, pos + 1);
  }
  return out;
}

uint64_t number(const json& j, const char* key) {
  auto i = j.find(key);
  if (i == j.end() || !i->is_number())
    return 0;
  return i->get<uint64_t>();
}

double seconds_of(const json& j, const char* key) {
  auto i = j.find(key);
  return i != j.end() && i->is_number() ? i->get<double>() : 0.0;
}

std::string text_of(const json& j, const char* key) {
  auto i = j.find(key);
  return i != j.end() && i->is_string() ? i->get<std::string>() : "";
}

/// 12345 -> "12,345".
std::string grouped(uint64_t n) {
  auto digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

std::string fixed(double x, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, x);
  return buf;
}

std::string megabytes(uint64_t bytes) {
  return fixed(bytes / 1048576.0, 1) + " MB";
}

std::string why_missing(const json* detail) {
  if (!detail)
    return "not in /status?pods=1";
  std::string out = "state " + text_of(*detail, "state") + ", delivery "
                    + text_of(*detail, "delivery");
  for (auto key : {"delivery_error", "collection_error"})
    if (auto text = text_of(*detail, key); !text.empty())
      out += std::string{", "} + key + ": " + text;
  return out;
}

std::string fault_summary(const podsim::scenario& s) {
  std::string out;
  for (auto& group : s.faults) {
    if (group.pods == 0)
      continue;
    out += (out.empty() ? "" : ", ") + std::to_string(group.pods) + " "
           + podsim::to_string(group.kind);
    if (group.kind == fault::flaky)
      out += " (" + std::to_string(group.failures) + " failures)";
    if (group.kind == fault::slow)
      out += " (+" + podsim::format_duration(group.delay) + ")";
    if (group.latency)
      out += " (latency " + podsim::format_duration(*group.latency) + ")";
  }
  return out.empty() ? "no faults" : out;
}

std::string proxy_summary(const podsim::proxy_config& p) {
  std::string out = std::to_string(p.workers) + " workers, connect "
                    + podsim::format_duration(p.connect_timeout)
                    + ", request "
                    + podsim::format_duration(p.request_timeout)
                    + ", retries " + std::to_string(p.retries) + ", backoff "
                    + podsim::format_duration(p.backoff_base) + ".."
                    + podsim::format_duration(p.backoff_cap);
  for (auto& arg : p.extra_args)
    out += " " + arg;
  return out;
}

std::string verdict(const scenario_report& r) {
  if (r.ok())
    return "ok";
  if (!r.error.empty())
    return "FAIL: " + r.error;
  if (!r.results_valid_json)
    return "FAIL: /results is not valid JSON";
  if (!r.problems.empty())
    return "FAIL: " + std::to_string(r.problems.size())
           + " integrity problems";
  return "FAIL: over the bound";
}

json counts_json(const kind_counts& c) {
  return json{{"pods", c.pods},
              {"delivered", c.delivered},
              {"unconfirmed", c.unconfirmed},
              {"failed", c.failed},
              {"collected", c.collected},
              {"collect_failed", c.collect_failed},
              {"entries_expected", c.entries_expected},
              {"entries_received", c.entries_received},
              {"delivery_attempts", c.delivery_attempts},
              {"collection_attempts", c.collection_attempts},
              {"duplicate_checks", c.duplicate_checks},
              {"in_results", c.in_results},
              {"intact", c.intact}};
}

json phase_json(const phase_report& p) {
  return json{{"seconds", p.seconds},
              {"calls", p.calls},
              {"call_bound_seconds", p.bound.call_seconds},
              {"pod_bound_seconds", p.bound.pod_seconds},
              {"bound_seconds", p.bound.phase_seconds},
              {"within_bound", p.within}};
}

long long ms(std::chrono::milliseconds d) {
  return static_cast<long long>(d.count());
}

} // namespace

void kind_counts::add(const kind_counts& o) {
  pods += o.pods;
  delivered += o.delivered;
  unconfirmed += o.unconfirmed;
  failed += o.failed;
  collected += o.collected;
  collect_failed += o.collect_failed;
  entries_expected += o.entries_expected;
  entries_received += o.entries_received;
  delivery_attempts += o.delivery_attempts;
  collection_attempts += o.collection_attempts;
  duplicate_checks += o.duplicate_checks;
  in_results += o.in_results;
  intact += o.intact;
}

bool scenario_report::ok() const {
  return error.empty() && finished && results_valid_json && problems.empty()
         && delivery.within && collection.within;
}

scenario_report analyse(const podsim::scenario& s, const std::string& file,
                        const run_result& run) {
  scenario_report r;
  r.scenario = s;
  r.file = file;
  r.error = run.error;
  r.finished = run.delivery_done && run.collection_done && run.have_results;
  r.wall_seconds = run.wall_seconds;
  r.proxy_exit = run.proxy_exit;
  r.proxy_log = run.proxy_log;
  static const json no_status = json::object();
  const json& status = run.status.is_object() ? run.status : no_status;
  r.calls = number(status, "calls");
  r.retries = number(status, "retries");
  r.worker_restarts = number(status, "worker_restarts");
  r.results_bytes = run.results_body.size();

  std::unordered_map<std::string, const json*> details;
  if (auto i = status.find("pod_details"); i != status.end() && i->is_array())
    for (auto& detail : *i)
      details.emplace(text_of(detail, "pod"), &detail);

  auto results = json::parse(run.results_body, nullptr, false);
  r.results_valid_json = run.have_results && !results.is_discarded()
                         && results.is_object();
  if (run.have_results && !r.results_valid_json)
    r.problems.push_back({"", "", "/results is not valid JSON: kube-burner "
                                  "would fail to decode it"});
  auto raw = raw_members(run.results_body);
  auto initiate = json::parse(run.initiate_body, nullptr, false);

  std::map<fault, kind_counts> by_kind;
  std::vector<double> healthy_delivered;
  for (auto& pod : run.fleet) {
    auto& c = by_kind[pod.kind];
    auto kind = podsim::to_string(pod.kind);
    ++c.pods;
    auto found = details.find(pod.ip);
    const json* detail = found == details.end() ? nullptr : found->second;
    if (detail) {
      auto delivery = text_of(*detail, "delivery");
      c.delivered += delivery == "delivered";
      c.unconfirmed += delivery == "unconfirmed";
      c.failed += delivery == "failed";
      auto state = text_of(*detail, "state");
      c.collected += state == "collected";
      c.collect_failed += state == "collect_failed";
      c.delivery_attempts += number(*detail, "delivery_attempts");
      if (pod.kind == fault::none && delivery == "delivered")
        healthy_delivered.push_back(
          seconds_of(*detail, "delivered_after_ms") / 1000.0);
      c.collection_attempts += number(*detail, "collection_attempts");
    }
    c.entries_expected += pod.results_entries;
    c.duplicate_checks += pod.duplicate_checks;
    bool healthy = pod.kind == fault::none;
    r.healthy += healthy;
    if (auto bytes = raw.find(pod.ip); bytes != raw.end()) {
      ++c.in_results;
      if (bytes->second == pod.results_body) {
        ++c.intact;
        r.healthy_intact += healthy;
      } else {
        r.problems.push_back(
          {pod.ip, kind,
           "results altered: /results holds "
             + std::to_string(bytes->second.size())
             + " bytes that differ from the pod's "
             + std::to_string(pod.results_body.size())});
      }
      if (r.results_valid_json)
        if (auto entries = results.find(pod.ip);
            entries != results.end() && entries->is_array())
          c.entries_received += entries->size();
      raw.erase(bytes);
    } else if (healthy && run.have_results) {
      r.problems.push_back(
        {pod.ip, kind, "results missing (" + why_missing(detail) + ")"});
    }
    if (pod.accepted_check && !initiate.is_discarded()) {
      auto taken = json::parse(pod.check_body, nullptr, false);
      if (taken.is_discarded() || !initiate.contains(pod.ip)
          || taken != initiate[pod.ip])
        r.problems.push_back(
          {pod.ip, kind, "the connection list the pod took differs from "
                         "the one in /initiate"});
    }
    if (healthy && pod.duplicate_checks > 0)
      r.problems.push_back(
        {pod.ip, kind,
         "got /check " + std::to_string(pod.duplicate_checks)
           + " more time(s) after accepting it"});
  }
  for (auto& [ip, bytes] : raw)
    r.problems.push_back({ip, "", "in /results but not a pod of the fleet"});

  if (!healthy_delivered.empty()) {
    std::sort(healthy_delivered.begin(), healthy_delivered.end());
    auto rank = [&](double q) {
      auto i = static_cast<size_t>(
        std::ceil(q * static_cast<double>(healthy_delivered.size())));
      return healthy_delivered[std::max<size_t>(i, 1) - 1];
    };
    r.healthy_delivered_p50 = rank(0.5);
    r.healthy_delivered_p99 = rank(0.99);
    r.healthy_delivered_max = healthy_delivered.back();
  }

  for (auto kind : all_faults)
    if (auto i = by_kind.find(kind); i != by_kind.end()) {
      r.kinds.emplace_back(kind, i->second);
      r.total.add(i->second);
    }

  r.delivery.seconds = seconds_of(status, "delivery_seconds");
  r.delivery.calls = r.total.delivery_attempts;
  r.delivery.bound = phase_bound(s.proxy, r.delivery.calls);
  r.delivery.within = run.delivery_done
                      && r.delivery.seconds <= r.delivery.bound.phase_seconds
                                                 + bound_slack_seconds;
  r.collection.seconds = seconds_of(status, "collection_seconds");
  r.collection.calls = r.total.collection_attempts;
  r.collection.bound = phase_bound(s.proxy, r.collection.calls);
  r.collection.within = run.collection_done
                        && r.collection.seconds
                             <= r.collection.bound.phase_seconds
                                  + bound_slack_seconds;
  return r;
}

std::string markdown_section(const scenario_report& r) {
  const auto& s = r.scenario;
  std::ostringstream md;
  md << "## " << s.name << "\n\n";
  if (!s.description.empty())
    md << s.description << "\n\n";
  md << "- fleet: " << grouped(s.pods) << " pods (" << podsim::to_string(s.mode)
     << ", latency " << podsim::format_duration(s.latency) << " + 0.."
     << podsim::format_duration(s.jitter) << ", seed " << s.seed << ", "
     << s.connections_per_pod << " connections each); "
     << fault_summary(s) << "\n";
  md << "- proxy: " << proxy_summary(s.proxy) << "\n";
  md << "- scenario file: `" << r.file << "`\n\n";

  md << "| fault | pods | delivered | unconfirmed | failed | collected | "
        "collect_failed | entries expected | entries received | attempts "
        "(deliver / collect) | duplicate /check |\n";
  md << "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  auto row = [&](const std::string& name, const kind_counts& c) {
    md << "| " << name << " | " << grouped(c.pods) << " | "
       << grouped(c.delivered) << " | " << grouped(c.unconfirmed) << " | "
       << grouped(c.failed) << " | " << grouped(c.collected) << " | "
       << grouped(c.collect_failed) << " | " << grouped(c.entries_expected)
       << " | " << grouped(c.entries_received) << " | "
       << grouped(c.delivery_attempts) << " / "
       << grouped(c.collection_attempts) << " | "
       << grouped(c.duplicate_checks) << " |\n";
  };
  for (auto& [kind, counts] : r.kinds)
    row(podsim::to_string(kind), counts);
  row("**all**", r.total);
  md << "\n";

  md << "| phase | seconds | pod calls | one pod's bound | phase bound | "
        "within bound |\n";
  md << "|---|--:|--:|--:|--:|---|\n";
  auto phase_row = [&](const char* name, const phase_report& p) {
    md << "| " << name << " | " << fixed(p.seconds) << " | "
       << grouped(p.calls) << " | " << fixed(p.bound.pod_seconds, 1)
       << " s | " << fixed(p.bound.phase_seconds, 1) << " s | "
       << (p.within ? "yes" : "**no**") << " |\n";
  };
  phase_row("delivery", r.delivery);
  phase_row("collection", r.collection);
  md << "\n";

  md << "- pod calls " << grouped(r.calls) << " (" << grouped(r.retries)
     << " retries), worker restarts " << r.worker_restarts << "; /results "
     << megabytes(r.results_bytes)
     << (r.results_valid_json ? ", valid JSON" : ", **not valid JSON**")
     << "\n";
  md << "- healthy pods with their exact results in /results: "
     << grouped(r.healthy_intact) << " / " << grouped(r.healthy) << "\n";
  md << "- healthy pods got their list (so started testing) "
     << fixed(r.healthy_delivered_p50) << " s after /initiate at the median, "
     << fixed(r.healthy_delivered_p99) << " s at p99, "
     << fixed(r.healthy_delivered_max) << " s at most\n";
  md << "- wall time " << fixed(r.wall_seconds, 1) << " s; proxy "
     << r.proxy_exit << "\n";
  if (!r.chart.empty())
    md << "- pods by state over time: [" << r.chart << "](" << r.chart
       << ")\n";
  md << "- verdict: " << verdict(r) << "\n";
  if (!r.problems.empty()) {
    md << "\nProblems (" << r.problems.size() << "):\n\n";
    size_t shown = 0;
    for (auto& p : r.problems) {
      if (++shown > 20) {
        md << "- ... and " << r.problems.size() - 20
           << " more (summary.json lists all)\n";
        break;
      }
      md << "- " << (p.pod.empty() ? "/results" : p.pod)
         << (p.kind.empty() ? "" : " (" + p.kind + ")") << ": " << p.what
         << "\n";
    }
  }
  md << "\n";
  return md.str();
}

std::string markdown_overview(const std::vector<scenario_report>& all) {
  std::ostringstream md;
  md << "| scenario | pods | workers | connect / request | retries | "
        "delivered | unconfirmed | failed | collected | collect_failed | "
        "delivery s | collection s | within bound | healthy intact | "
        "healthy list p99 s | wall s | verdict |\n";
  md << "|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|---|"
        "\n";
  for (auto& r : all) {
    const auto& p = r.scenario.proxy;
    md << "| " << r.scenario.name << " | " << grouped(r.scenario.pods) << " | "
       << p.workers << " | " << podsim::format_duration(p.connect_timeout)
       << " / " << podsim::format_duration(p.request_timeout) << " | "
       << p.retries << " | " << grouped(r.total.delivered) << " | "
       << grouped(r.total.unconfirmed) << " | " << grouped(r.total.failed)
       << " | " << grouped(r.total.collected) << " | "
       << grouped(r.total.collect_failed) << " | "
       << fixed(r.delivery.seconds) << " | " << fixed(r.collection.seconds)
       << " | "
       << (r.delivery.within && r.collection.within ? "yes" : "**no**")
       << " | " << grouped(r.healthy_intact) << " / " << grouped(r.healthy)
       << " | " << fixed(r.healthy_delivered_p99) << " | "
       << fixed(r.wall_seconds, 1) << " | " << verdict(r) << " |\n";
  }
  return md.str();
}

json summary_json(const std::vector<scenario_report>& all) {
  json scenarios = json::array();
  bool ok = true;
  for (auto& r : all) {
    ok = ok && r.ok();
    const auto& s = r.scenario;
    json faults = json::array();
    for (auto& group : s.faults) {
      json g{{"kind", podsim::to_string(group.kind)}, {"pods", group.pods}};
      if (group.kind == fault::flaky)
        g["failures"] = group.failures;
      if (group.kind == fault::slow)
        g["delay_ms"] = ms(group.delay);
      if (group.latency)
        g["latency_ms"] = ms(*group.latency);
      if (group.jitter)
        g["jitter_ms"] = ms(*group.jitter);
      faults.push_back(std::move(g));
    }
    json kinds = json::object();
    for (auto& [kind, counts] : r.kinds)
      kinds[podsim::to_string(kind)] = counts_json(counts);
    json problems = json::array();
    json healthy_missing = json::array();
    json altered = json::array();
    for (auto& p : r.problems) {
      problems.push_back({{"pod", p.pod}, {"kind", p.kind}, {"what", p.what}});
      if (p.kind == "none" && p.what.rfind("results missing", 0) == 0)
        healthy_missing.push_back(p.pod);
      if (p.what.rfind("results altered", 0) == 0)
        altered.push_back(p.pod);
    }
    const auto& p = s.proxy;
    scenarios.push_back({
      {"name", s.name},
      {"file", r.file},
      {"ok", r.ok()},
      {"error", r.error},
      {"finished", r.finished},
      {"pods", s.pods},
      {"mode", podsim::to_string(s.mode)},
      {"seed", s.seed},
      {"latency_ms", ms(s.latency)},
      {"jitter_ms", ms(s.jitter)},
      {"connections_per_pod", s.connections_per_pod},
      {"faults", std::move(faults)},
      {"proxy",
       {{"workers", p.workers},
        {"connect_timeout_ms", ms(p.connect_timeout)},
        {"request_timeout_ms", ms(p.request_timeout)},
        {"retries", p.retries},
        {"backoff_base_ms", ms(p.backoff_base)},
        {"backoff_cap_ms", ms(p.backoff_cap)},
        {"extra_args", p.extra_args}}},
      {"kinds", std::move(kinds)},
      {"total", counts_json(r.total)},
      {"delivery", phase_json(r.delivery)},
      {"collection", phase_json(r.collection)},
      {"bound_slack_seconds", bound_slack_seconds},
      {"calls", r.calls},
      {"retries", r.retries},
      {"worker_restarts", r.worker_restarts},
      {"results_bytes", r.results_bytes},
      {"results_valid_json", r.results_valid_json},
      {"healthy", r.healthy},
      {"healthy_intact", r.healthy_intact},
      {"healthy_delivered_seconds",
       {{"p50", r.healthy_delivered_p50},
        {"p99", r.healthy_delivered_p99},
        {"max", r.healthy_delivered_max}}},
      {"healthy_missing", std::move(healthy_missing)},
      {"altered", std::move(altered)},
      {"problems", std::move(problems)},
      {"wall_seconds", r.wall_seconds},
      {"proxy_exit", r.proxy_exit},
      {"chart", r.chart},
    });
  }
  return json{{"ok", ok}, {"scenarios", std::move(scenarios)}};
}

std::string samples_csv(const std::vector<sample>& samples) {
  std::string out = "seconds,phase";
  for (size_t i = 0; i < pod_state_count; ++i)
    out += std::string{","} + to_string(static_cast<pod_state>(i));
  out += ",waiting_retry,calls,retries\n";
  for (auto& x : samples) {
    out += fixed(x.seconds, 3) + "," + x.phase;
    for (auto n : x.states)
      out += "," + std::to_string(n);
    out += "," + std::to_string(x.waiting_retry) + ","
           + std::to_string(x.calls) + "," + std::to_string(x.retries) + "\n";
  }
  return out;
}

} // namespace netpol::lab
