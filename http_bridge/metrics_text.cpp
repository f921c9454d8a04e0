#include "http_bridge/metrics_text.hpp"

#include "messages/duration.hpp"

#include <chrono>
#include <cstdio>

namespace netpol {

namespace {

/// Appends one metric family: HELP and TYPE lines, then its samples.
class exposition {
public:
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void sample(const std::string& name, const std::string& labels,
              double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    char buf[64];
    // Integers print exactly; %.17g keeps every double round-trippable.
    if (value == static_cast<double>(static_cast<int64_t>(value))
        && value < 1e15 && value > -1e15)
      snprintf(buf, sizeof(buf), " %lld\n", static_cast<long long>(value));
    else
      snprintf(buf, sizeof(buf), " %.17g\n", value);
    out_ += buf;
  }

  std::string take() {
    return std::move(out_);
  }

private:
  std::string out_;
};

std::string label(const char* key, const std::string& value) {
  return std::string{key} + "=\"" + value + "\"";
}

} // namespace

std::string prometheus_text(const proxy_metrics& m, const front_counters& f,
                            const std::string& version) {
  exposition e;
  e.family("netpol_proxy_build_info", "gauge",
           "Build of the running proxy; the value is always 1.");
  e.sample("netpol_proxy_build_info",
           label("version", version) + "," + label("commit", NETPOL_PROXY_COMMIT),
           1);
  e.family("netpol_proxy_workers", "gauge", "Pod workers in the pool.");
  e.sample("netpol_proxy_workers", "", m.workers);
  e.family("netpol_proxy_rounds_total", "counter",
           "Rounds started by /initiate.");
  e.sample("netpol_proxy_rounds_total", "", static_cast<double>(m.rounds));
  e.family("netpol_proxy_round", "gauge",
           "Number of the current or last round (0 before the first).");
  e.sample("netpol_proxy_round", "", static_cast<double>(m.status.round));
  e.family("netpol_proxy_phase", "gauge",
           "1 for the round's current phase, 0 for the others.");
  for (auto x : {phase::idle, phase::delivering, phase::delivered,
                 phase::collecting, phase::collected})
    e.sample("netpol_proxy_phase", label("phase", to_string(x)),
             m.status.current == x ? 1 : 0);
  e.family("netpol_proxy_pods", "gauge", "Pods of the round by state.");
  for (size_t i = 0; i < pod_state_count; ++i)
    e.sample("netpol_proxy_pods",
             label("state", to_string(static_cast<pod_state>(i))),
             m.status.counts[i]);
  e.family("netpol_proxy_pods_waiting_retry", "gauge",
           "Pods waiting for their retry backoff to expire.");
  e.sample("netpol_proxy_pods_waiting_retry", "", m.status.in_backoff);
  e.family("netpol_proxy_delivery_outcomes", "gauge",
           "How delivery ended for the round's pods so far.");
  e.sample("netpol_proxy_delivery_outcomes", label("outcome", "delivered"),
           m.status.delivered);
  e.sample("netpol_proxy_delivery_outcomes", label("outcome", "unconfirmed"),
           m.status.unconfirmed);
  e.sample("netpol_proxy_delivery_outcomes", label("outcome", "failed"),
           m.status.delivery_failed);
  e.family("netpol_proxy_pod_calls_total", "counter",
           "Pod calls by stage and outcome (ok or the failure reason).");
  for (auto s : {stage::delivery, stage::collection})
    for (size_t i = 0; i < call_status_count; ++i) {
      auto outcome = static_cast<call_status>(i);
      e.sample("netpol_proxy_pod_calls_total",
               label("stage", to_string(s)) + ","
                 + label("outcome", to_string(outcome)),
               static_cast<double>(m.calls_of(s, outcome)));
    }
  e.family("netpol_proxy_retries_total", "counter",
           "Pod calls that were retries, by stage.");
  for (auto s : {stage::delivery, stage::collection})
    e.sample("netpol_proxy_retries_total", label("stage", to_string(s)),
             static_cast<double>(m.retries[static_cast<size_t>(s)]));
  e.family("netpol_proxy_worker_restarts_total", "counter",
           "Pod workers replaced after dying or hanging.");
  e.sample("netpol_proxy_worker_restarts_total", "",
           static_cast<double>(m.worker_restarts));
  e.family("netpol_proxy_phase_duration_seconds", "gauge",
           "Time the round's delivery and collection took (so far).");
  e.sample("netpol_proxy_phase_duration_seconds", label("phase", "delivery"),
           seconds(m.delivery_duration));
  e.sample("netpol_proxy_phase_duration_seconds",
           label("phase", "collection"), seconds(m.collection_duration));
  e.family("netpol_proxy_results_bytes", "gauge",
           "Bytes of results collected in the round.");
  e.sample("netpol_proxy_results_bytes", "",
           static_cast<double>(m.results_bytes));
  e.family("netpol_proxy_results_entries", "gauge",
           "connTest entries collected in the round.");
  e.sample("netpol_proxy_results_entries", "",
           static_cast<double>(m.results_entries));
  e.family("netpol_proxy_pod_call_duration_seconds", "histogram",
           "Duration of pod calls, by stage.");
  for (auto s : {stage::delivery, stage::collection}) {
    auto index = static_cast<size_t>(s);
    auto stage_label = label("stage", to_string(s));
    uint64_t count = 0;
    for (size_t i = 0; i < call_status_count; ++i)
      count += m.calls_of(s, static_cast<call_status>(i));
    for (size_t i = 0; i < call_latency_bucket_count; ++i) {
      char bound[32];
      snprintf(bound, sizeof(bound), "%g", call_latency_buckets[i]);
      e.sample("netpol_proxy_pod_call_duration_seconds_bucket",
               stage_label + "," + label("le", bound),
               static_cast<double>(
                 m.latency_buckets[index * call_latency_bucket_count + i]));
    }
    e.sample("netpol_proxy_pod_call_duration_seconds_bucket",
             stage_label + "," + label("le", "+Inf"),
             static_cast<double>(count));
    e.sample("netpol_proxy_pod_call_duration_seconds_sum", stage_label,
             m.latency_sum[index]);
    e.sample("netpol_proxy_pod_call_duration_seconds_count", stage_label,
             static_cast<double>(count));
  }
  e.family("netpol_proxy_rounds_superseded_total", "counter",
           "Rounds a new /initiate ended before they were collected.");
  e.sample("netpol_proxy_rounds_superseded_total", "",
           static_cast<double>(m.rounds_superseded));
  e.family("netpol_proxy_initiates_refused_total", "counter",
           "/initiate requests refused (invalid, too large, too slow).");
  e.sample("netpol_proxy_initiates_refused_total", "",
           static_cast<double>(m.initiates_refused));
  if (m.has_completeness) {
    auto& c = m.completeness;
    e.family("netpol_proxy_completeness_tests", "gauge",
             "The round's connection tests by what came back (from /stop "
             "on): expected, reported, missing, duplicates, unexpected, "
             "unknown.");
    for (auto [kind, value] :
         {std::pair{"expected", c.expected}, {"reported", c.reported},
          {"missing", c.missing}, {"duplicates", c.duplicates},
          {"unexpected", c.unexpected}, {"unknown", c.unknown}})
      e.sample("netpol_proxy_completeness_tests", label("kind", kind),
               static_cast<double>(value));
    e.family("netpol_proxy_completeness_pods_incomplete", "gauge",
             "Pods with a missing or unknown connection test.");
    e.sample("netpol_proxy_completeness_pods_incomplete", "",
             c.pods_incomplete);
    e.family("netpol_proxy_completeness_netpols_incomplete", "gauge",
             "Netpols with a missing or unknown connection test.");
    e.sample("netpol_proxy_completeness_netpols_incomplete", "",
             c.netpols_incomplete);
    e.family("netpol_proxy_completeness_netpols_missing", "gauge",
             "Netpols with a missing connection test.");
    e.sample("netpol_proxy_completeness_netpols_missing", "",
             c.netpols_missing);
  }
  e.family("netpol_proxy_http_connections", "gauge",
           "HTTP connections open now (kube-burner, operators, anyone).");
  e.sample("netpol_proxy_http_connections", "",
           static_cast<double>(f.open_connections));
  e.family("netpol_proxy_http_max_connections", "gauge",
           "The connection cap in effect (--max-connections).");
  e.sample("netpol_proxy_http_max_connections", "",
           static_cast<double>(f.max_connections));
  e.family("netpol_proxy_http_connections_accepted_total", "counter",
           "HTTP connections accepted, including those refused at the cap.");
  e.sample("netpol_proxy_http_connections_accepted_total", "",
           static_cast<double>(f.accepted));
  e.family("netpol_proxy_http_connections_refused_total", "counter",
           "HTTP connections answered 503 at once: the cap was reached.");
  e.sample("netpol_proxy_http_connections_refused_total", "",
           static_cast<double>(f.refused_at_cap));
  e.family("netpol_proxy_http_requests_total", "counter",
           "HTTP requests read whole and handed to a route.");
  e.sample("netpol_proxy_http_requests_total", "",
           static_cast<double>(f.requests));
  e.family("netpol_proxy_http_requests_busy_total", "counter",
           "HTTP requests answered 503: no thread or body slot in time.");
  e.sample("netpol_proxy_http_requests_busy_total", "",
           static_cast<double>(f.refused_busy));
  e.family("netpol_proxy_http_closed_total", "counter",
           "HTTP connections closed by a deadline, by deadline.");
  e.sample("netpol_proxy_http_closed_total", label("deadline", "header"),
           static_cast<double>(f.closed_header_deadline));
  e.sample("netpol_proxy_http_closed_total", label("deadline", "body"),
           static_cast<double>(f.closed_body_deadline));
  e.sample("netpol_proxy_http_closed_total", label("deadline", "idle"),
           static_cast<double>(f.closed_idle));
  e.sample("netpol_proxy_http_closed_total", label("deadline", "write"),
           static_cast<double>(f.closed_write_deadline));
  return e.take();
}

} // namespace netpol
