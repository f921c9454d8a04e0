#include "http_bridge/wire.hpp"

#include <nlohmann/json.hpp>

#include <chrono>

namespace netpol {

namespace {

using ordered_json = nlohmann::ordered_json;

/// Pod answers can put any bytes into error texts: never let a byte that is
/// not UTF-8 turn a status answer into an exception.
std::string dump(const ordered_json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

double seconds(caf::timespan x) {
  return std::chrono::duration<double>(x).count();
}

double millis(caf::timespan x) {
  return std::chrono::duration<double, std::milli>(x).count();
}

ordered_json state_counts(const round_status& status) {
  ordered_json counts = ordered_json::object();
  for (size_t i = 0; i < pod_state_count; ++i)
    counts[to_string(static_cast<pod_state>(i))] = status.counts[i];
  return counts;
}

ordered_json summary(const round_status& status) {
  ordered_json j;
  j["round"] = status.round;
  j["phase"] = to_string(status.current);
  j["pods"] = status.pods;
  j["delivered"] = status.delivered;
  j["unconfirmed"] = status.unconfirmed;
  j["delivery_failed"] = status.delivery_failed;
  j["collected"] = status.count(pod_state::collected);
  j["collect_failed"] = status.count(pod_state::collect_failed);
  j["waiting_retry"] = status.in_backoff;
  j["states"] = state_counts(status);
  return j;
}

ordered_json detail_json(const pod_detail& pod) {
  ordered_json j;
  j["pod"] = pod.ip;
  j["state"] = to_string(pod.state);
  j["delivery"] = to_string(pod.delivery_outcome);
  j["delivery_attempts"] = pod.delivery_attempts;
  if (!pod.delivery_error.empty())
    j["delivery_error"] = pod.delivery_error;
  j["collection_attempts"] = pod.collection_attempts;
  if (!pod.collection_error.empty())
    j["collection_error"] = pod.collection_error;
  if (pod.delivered_after.count() > 0)
    j["delivered_after_ms"] = millis(pod.delivered_after);
  if (pod.collected_after.count() > 0)
    j["collected_after_ms"] = millis(pod.collected_after);
  j["results_entries"] = pod.results_entries;
  return j;
}

} // namespace

std::string status_json(const round_status& status, bool done) {
  ordered_json j;
  j["result"] = done;
  j.update(summary(status));
  return dump(j) + "\n";
}

std::string report_json(const round_report& report) {
  ordered_json j = summary(report.status);
  j["delivery_done"] = report.status.delivery_done();
  j["collection_done"] = report.status.collection_done();
  j["started_unix_ms"] = report.started_unix_ms;
  j["delivery_seconds"] = seconds(report.delivery_duration);
  j["collection_seconds"] = seconds(report.collection_duration);
  j["calls"] = report.calls;
  j["retries"] = report.retries;
  j["worker_restarts"] = report.worker_restarts;
  j["results_entries"] = report.results_entries;
  j["results_bytes"] = report.results_bytes;
  j["problems_total"] = report.problems_total;
  auto problems = ordered_json::array();
  for (auto& pod : report.problems)
    problems.push_back(detail_json(pod));
  j["problems"] = std::move(problems);
  if (!report.pods.empty()) {
    auto pods = ordered_json::array();
    for (auto& pod : report.pods)
      pods.push_back(detail_json(pod));
    j["pod_details"] = std::move(pods);
  }
  return dump(j, 2) + "\n";
}

std::string error_json(std::string_view code, std::string_view message) {
  ordered_json j;
  j["error"] = code;
  j["message"] = message;
  return dump(j) + "\n";
}

results_writer::results_writer(results_snapshot snapshot)
  : snapshot_(std::move(snapshot)) {
  // "{" + "\n}" + per pod: separator, quoted IP, colon, body. IPs are
  // validated addresses: no character needs escaping.
  size_ = 3;
  for (size_t i = 0; i < snapshot_.pods.size(); ++i)
    size_ += (i > 0 ? 1 : 0) + snapshot_.pods[i].ip.size() + 3
             + snapshot_.pods[i].body.size();
}

bool results_writer::next(std::vector<std::string_view>& out,
                          size_t max_bytes) {
  prefixes_.clear();
  size_t taken = 0;
  if (!opened_) {
    opened_ = true;
    out.emplace_back("{");
    taken = 1;
  }
  for (size_t pods = 0;
       next_pod_ < snapshot_.pods.size() && (pods == 0 || taken < max_bytes);
       ++pods) {
    auto& pod = snapshot_.pods[next_pod_];
    auto& prefix = prefixes_.emplace_back();
    if (next_pod_ > 0)
      prefix += ',';
    prefix += '"';
    prefix += pod.ip;
    prefix += "\":";
    out.emplace_back(prefix);
    out.emplace_back(pod.body.view());
    taken += prefix.size() + pod.body.size();
    ++next_pod_;
  }
  if (next_pod_ < snapshot_.pods.size())
    return true;
  if (!closed_) {
    closed_ = true;
    out.emplace_back("}\n");
  }
  return false;
}

} // namespace netpol
