#include "http_bridge/wire.hpp"

#include "messages/duration.hpp"

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
  if (pod.sample_taken_unix_ms > 0) {
    ordered_json sample;
    sample["entries"] = pod.sample_entries;
    sample["taken_unix_ms"] = pod.sample_taken_unix_ms;
    if (pod.restart_seen_unix_ms > 0)
      sample["restart_seen_unix_ms"] = pod.restart_seen_unix_ms;
    j["sample"] = std::move(sample);
  }
  if (!pod.served_sample.empty())
    j["served_sample"] = pod.served_sample;
  return j;
}

ordered_json totals_json(const completeness_totals& t) {
  ordered_json j;
  j["expected"] = t.expected;
  j["reported"] = t.reported;
  j["missing"] = t.missing;
  j["duplicates"] = t.duplicates;
  j["unexpected"] = t.unexpected;
  j["unknown"] = t.unknown;
  j["pods_incomplete"] = t.pods_incomplete;
  j["netpols_incomplete"] = t.netpols_incomplete;
  j["netpols_missing"] = t.netpols_missing;
  return j;
}

ordered_json time_json(const success_time& t) {
  if (t.empty())
    return nullptr;
  return t.text;
}

} // namespace

std::string refused_poll_json(const std::string& reason) {
  ordered_json j;
  j["result"] = "refused";
  j["error"] = "initiate_refused";
  j["message"] = "netpol-proxy refused the last /initiate: " + reason
                 + ". No round runs; see the proxy's log (kubectl logs -n "
                   "network-policy-proxy network-policy-proxy)";
  return dump(j) + "\n";
}

std::string completeness_json(const completeness_report& r) {
  ordered_json j;
  j["round"] = r.round;
  j["phase"] = to_string(r.current);
  j["collection_done"] = r.collection_done;
  // During the job: what the last sweep's samples say, as old as the oldest.
  j["source"] = r.from_samples ? "samples" : "collection";
  auto totals = totals_json(r.totals);
  if (r.from_samples) {
    totals["pods_sampled"] = r.pods_sampled;
    totals["oldest_sample_unix_ms"] = r.oldest_sample_unix_ms;
  }
  j["completeness"] = std::move(totals);
  j["netpols_total"] = r.netpols_total;
  auto netpols = ordered_json::array();
  for (auto& n : r.netpols) {
    ordered_json row;
    row["name"] = n.name;
    row["expected"] = n.expected;
    row["reported"] = n.reported;
    row["missing"] = n.missing;
    row["unknown"] = n.unknown;
    row["pods"] = n.pods;
    row["pods_missing"] = n.pods_missing;
    row["first_success"] = time_json(n.first);
    row["last_success"] = time_json(n.last);
    if (!n.first.empty() && !n.last.empty())
      row["spread_ms"]
        = static_cast<double>(n.last.seconds - n.first.seconds) * 1e3
          + (static_cast<double>(n.last.nanos) - n.first.nanos) / 1e6;
    else
      row["spread_ms"] = nullptr;
    row["sample_pods"] = n.sample_pods;
    netpols.push_back(std::move(row));
  }
  j["netpols"] = std::move(netpols);
  j["pods_total"] = r.pods_total;
  auto pods = ordered_json::array();
  for (auto& p : r.pods) {
    ordered_json row;
    row["pod"] = p.ip;
    row["state"] = to_string(p.state);
    row["delivery"] = to_string(p.delivery);
    row["expected"] = p.expected;
    row["reported"] = p.reported;
    row["missing"] = p.missing;
    row["duplicates"] = p.duplicates;
    row["unexpected"] = p.unexpected;
    row["unknown"] = p.unknown;
    row["missing_netpols"] = p.missing_netpols;
    pods.push_back(std::move(row));
  }
  j["pods"] = std::move(pods);
  ordered_json curve;
  curve["start"] = time_json(r.curve.start);
  curve["bucket_seconds"] = r.curve.bucket_seconds;
  curve["succeeded"] = r.curve.succeeded;
  j["curve"] = std::move(curve);
  return dump(j) + "\n";
}

std::string poll_json(const round_status& status, bool done) {
  ordered_json j;
  j["result"] = done;
  j.update(summary(status));
  return dump(j) + "\n";
}

std::string status_report_json(const status_report& report, bool timeline) {
  ordered_json j = summary(report.status);
  j["version"] = NETPOL_PROXY_VERSION;
  j["commit"] = NETPOL_PROXY_COMMIT;
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
  j["retrying_total"] = report.retrying_total;
  auto retrying = ordered_json::array();
  for (auto& pod : report.retrying)
    retrying.push_back(detail_json(pod));
  j["retrying"] = std::move(retrying);
  if (!report.pods.empty()) {
    auto pods = ordered_json::array();
    for (auto& pod : report.pods)
      pods.push_back(detail_json(pod));
    j["pod_details"] = std::move(pods);
  }
  j["persistence"] = report.persistence;
  if (report.sampling.interval.count() > 0) {
    auto& s = report.sampling;
    ordered_json sampling;
    sampling["interval_seconds"] = seconds(s.interval);
    sampling["sweeps"] = s.sweeps;
    sampling["last_sweep_seconds"] = s.last_sweep_ms / 1000.0;
    sampling["samples"] = s.taken;
    sampling["failed"] = s.failed;
    sampling["pods_sampled"] = s.pods_sampled;
    sampling["pods_restarted"] = s.restarted;
    sampling["pods_served_from_sample"] = s.served;
    j["sampling"] = std::move(sampling);
  }
  if (report.sampling.confirm_asked > 0) {
    auto& s = report.sampling;
    ordered_json asked;
    asked["asked"] = s.confirm_asked;
    asked["held_their_list"] = s.confirm_held;
    asked["sent_again"] = s.confirm_sent;
    asked["cannot_be_asked"] = s.confirm_cannot;
    asked["hold_another_list"] = s.confirm_other;
    asked["refused_when_sent_again"] = s.confirm_refused;
    asked["failed_asks"] = s.confirm_failed;
    j["unconfirmed_asked"] = std::move(asked);
  }
  if (report.has_completeness)
    j["completeness"] = totals_json(report.completeness);
  if (!report.superseded.empty()) {
    auto rounds = ordered_json::array();
    for (auto& r : report.superseded) {
      ordered_json row;
      row["round"] = r.round;
      row["phase"] = to_string(r.ended_in);
      row["pods"] = r.pods;
      row["delivered"] = r.delivered;
      row["unconfirmed"] = r.unconfirmed;
      row["delivery_failed"] = r.delivery_failed;
      row["collected"] = r.collected;
      row["collect_failed"] = r.collect_failed;
      row["calls_discarded"] = r.in_flight;
      row["ended_unix_ms"] = r.ended_unix_ms;
      row["by"] = r.by;
      rounds.push_back(std::move(row));
    }
    j["superseded"] = std::move(rounds);
  }
  if (report.has_refusal) {
    ordered_json refusal;
    refusal["http_status"] = report.last_refusal.http_status;
    refusal["reason"] = report.last_refusal.reason;
    refusal["at_unix_ms"] = report.last_refusal.at_unix_ms;
    refusal["pending"] = !report.status.refusal.empty();
    j["last_refusal"] = std::move(refusal);
  }
  if (timeline) {
    auto& t = report.timeline;
    ordered_json series;
    series["interval_ms"] = t.interval_ms;
    series["at_ms"] = t.at_ms;
    ordered_json states;
    for (size_t s = 0; s < pod_state_count; ++s) {
      auto column = ordered_json::array();
      for (size_t i = s; i < t.counts.size(); i += pod_state_count)
        column.push_back(t.counts[i]);
      states[to_string(static_cast<pod_state>(s))] = std::move(column);
    }
    series["states"] = std::move(states);
    j["timeline"] = std::move(series);
  }
  return dump(j, 2) + "\n";
}

std::string settings_json(const std::string& described) {
  ordered_json j;
  j["version"] = NETPOL_PROXY_VERSION;
  j["commit"] = NETPOL_PROXY_COMMIT;
  j["settings"] = described;
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
