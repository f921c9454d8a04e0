#include "http_bridge/metrics_text.hpp"

#include "messages/duration.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

namespace netpol {

namespace {

namespace pm = prometheus;

/// One scrape: a prometheus-cpp Registry built from the snapshot, serialized
/// by its TextSerializer. The Registry groups families by type and keeps a
/// family's series in a hash map; the text keeps the order in which they were
/// added here instead, so /metrics reads the same from scrape to scrape.
class scrape {
public:
  pm::Family<pm::Gauge>& gauge(const char* name, const char* help) {
    return remember(pm::BuildGauge().Name(name).Help(help).Register(registry_),
                    name);
  }

  pm::Family<pm::Counter>& counter(const char* name, const char* help) {
    return remember(
      pm::BuildCounter().Name(name).Help(help).Register(registry_), name);
  }

  pm::Family<pm::Histogram>& histogram(const char* name, const char* help) {
    return remember(
      pm::BuildHistogram().Name(name).Help(help).Register(registry_), name);
  }

  template <class T, class... Args>
  T& series(pm::Family<T>& family, const pm::Labels& labels, Args&&... args) {
    order_[index_.at(&family)].second.push_back(labels);
    return family.Add(labels, std::forward<Args>(args)...);
  }

  void sample(pm::Family<pm::Gauge>& family, const pm::Labels& labels,
              double value) {
    series(family, labels).Set(value);
  }

  void sample(pm::Family<pm::Counter>& family, const pm::Labels& labels,
              double value) {
    series(family, labels).Increment(value);
  }

  std::string text() const {
    auto collected = registry_.Collect();
    std::vector<pm::MetricFamily> ordered;
    ordered.reserve(order_.size());
    for (auto& [name, labels] : order_) {
      auto i = std::find_if(collected.begin(), collected.end(),
                            [&](auto& f) { return f.name == name; });
      if (i != collected.end())
        ordered.push_back(in_order(std::move(*i), labels));
    }
    return pm::TextSerializer{}.Serialize(ordered);
  }

private:
  template <class Family>
  Family& remember(Family& family, const char* name) {
    index_.emplace(&family, order_.size());
    order_.emplace_back(name, std::vector<pm::Labels>{});
    return family;
  }

  /// The family's series in the order their label sets were added.
  static pm::MetricFamily in_order(pm::MetricFamily family,
                                   const std::vector<pm::Labels>& order) {
    std::map<pm::Labels, pm::ClientMetric> by_labels;
    for (auto& metric : family.metric) {
      pm::Labels key;
      for (auto& l : metric.label)
        key.emplace(l.name, l.value);
      by_labels.emplace(std::move(key), std::move(metric));
    }
    family.metric.clear();
    for (auto& labels : order)
      if (auto i = by_labels.find(labels); i != by_labels.end()) {
        family.metric.push_back(std::move(i->second));
        by_labels.erase(i);
      }
    return family;
  }

  pm::Registry registry_;
  std::unordered_map<const void*, size_t> index_;
  std::vector<std::pair<std::string, std::vector<pm::Labels>>> order_;
};

/// Build, workers and the current round: its number, phase and pods.
void add_round(scrape& s, const proxy_metrics& m, const std::string& version) {
  s.sample(s.gauge("netpol_proxy_build_info",
                   "Build of the running proxy; the value is always 1."),
           {{"version", version}, {"commit", NETPOL_PROXY_COMMIT}}, 1);
  s.sample(s.gauge("netpol_proxy_workers", "Pod workers in the pool."), {},
           m.workers);
  s.sample(s.counter("netpol_proxy_rounds_total",
                     "Rounds started by /initiate."),
           {}, static_cast<double>(m.rounds));
  s.sample(s.gauge("netpol_proxy_round",
                   "Number of the current or last round (0 before the first)."),
           {}, static_cast<double>(m.status.round));
  auto& phases = s.gauge("netpol_proxy_phase",
                         "1 for the round's current phase, 0 for the others.");
  for (auto x : {phase::idle, phase::delivering, phase::delivered,
                 phase::collecting, phase::collected})
    s.sample(phases, {{"phase", to_string(x)}}, m.status.current == x ? 1 : 0);
  auto& pods = s.gauge("netpol_proxy_pods", "Pods of the round by state.");
  for (size_t i = 0; i < pod_state_count; ++i)
    s.sample(pods, {{"state", to_string(static_cast<pod_state>(i))}},
             m.status.counts[i]);
  s.sample(s.gauge("netpol_proxy_pods_waiting_retry",
                   "Pods waiting for their retry backoff to expire."),
           {}, m.status.in_backoff);
  auto& outcomes = s.gauge("netpol_proxy_delivery_outcomes",
                           "How delivery ended for the round's pods so far.");
  s.sample(outcomes, {{"outcome", "delivered"}}, m.status.delivered);
  s.sample(outcomes, {{"outcome", "unconfirmed"}}, m.status.unconfirmed);
  s.sample(outcomes, {{"outcome", "failed"}}, m.status.delivery_failed);
}

/// Pod calls, retries and restarts; the round's durations and results.
void add_calls(scrape& s, const proxy_metrics& m) {
  auto& calls = s.counter(
    "netpol_proxy_pod_calls_total",
    "Pod calls by stage and outcome (ok or the failure reason).");
  for (auto st : {stage::delivery, stage::collection})
    for (size_t i = 0; i < call_status_count; ++i) {
      auto outcome = static_cast<call_status>(i);
      s.sample(calls,
               {{"stage", to_string(st)}, {"outcome", to_string(outcome)}},
               static_cast<double>(m.calls_of(st, outcome)));
    }
  auto& retries = s.counter("netpol_proxy_retries_total",
                            "Pod calls that were retries, by stage.");
  for (auto st : {stage::delivery, stage::collection})
    s.sample(retries, {{"stage", to_string(st)}},
             static_cast<double>(m.retries[static_cast<size_t>(st)]));
  s.sample(s.counter("netpol_proxy_worker_restarts_total",
                     "Pod workers replaced after dying or hanging."),
           {}, static_cast<double>(m.worker_restarts));
  auto& durations = s.gauge(
    "netpol_proxy_phase_duration_seconds",
    "Time the round's delivery and collection took (so far).");
  s.sample(durations, {{"phase", "delivery"}}, seconds(m.delivery_duration));
  s.sample(durations, {{"phase", "collection"}},
           seconds(m.collection_duration));
  s.sample(s.gauge("netpol_proxy_results_bytes",
                   "Bytes of results collected in the round."),
           {}, static_cast<double>(m.results_bytes));
  s.sample(s.gauge("netpol_proxy_results_entries",
                   "connTest entries collected in the round."),
           {}, static_cast<double>(m.results_entries));
}

/// The pod call latency histogram: the snapshot's cumulative buckets become
/// per-bucket increments, the last one (+Inf) up to the stage's call count.
void add_latency(scrape& s, const proxy_metrics& m) {
  auto& family = s.histogram("netpol_proxy_pod_call_duration_seconds",
                             "Duration of pod calls, by stage.");
  const pm::Histogram::BucketBoundaries bounds(
    std::begin(call_latency_buckets), std::end(call_latency_buckets));
  for (auto st : {stage::delivery, stage::collection}) {
    auto index = static_cast<size_t>(st);
    uint64_t count = 0;
    for (size_t i = 0; i < call_status_count; ++i)
      count += m.calls_of(st, static_cast<call_status>(i));
    std::vector<double> increments;
    increments.reserve(call_latency_bucket_count + 1);
    uint64_t below = 0;
    for (size_t i = 0; i <= call_latency_bucket_count; ++i) {
      auto cumulative = i < call_latency_bucket_count
                          ? m.latency_buckets[index * call_latency_bucket_count
                                              + i]
                          : count;
      increments.push_back(
        static_cast<double>(std::max(cumulative, below) - below));
      below = std::max(cumulative, below);
    }
    s.series(family, {{"stage", to_string(st)}}, bounds)
      .ObserveMultiple(increments, m.latency_sum[index]);
  }
}

/// Superseded rounds, refused /initiates and, from /stop on, completeness.
void add_outcomes(scrape& s, const proxy_metrics& m) {
  s.sample(s.counter(
             "netpol_proxy_rounds_superseded_total",
             "Rounds a new /initiate ended before they were collected."),
           {}, static_cast<double>(m.rounds_superseded));
  s.sample(s.counter(
             "netpol_proxy_initiates_refused_total",
             "/initiate requests refused (invalid, too large, too slow)."),
           {}, static_cast<double>(m.initiates_refused));
  if (!m.has_completeness)
    return;
  auto& c = m.completeness;
  auto& tests = s.gauge(
    "netpol_proxy_completeness_tests",
    "The round's connection tests by what came back (from /stop on): "
    "expected, reported, missing, duplicates, unexpected, unknown.");
  for (auto [kind, value] :
       {std::pair{"expected", c.expected}, {"reported", c.reported},
        {"missing", c.missing}, {"duplicates", c.duplicates},
        {"unexpected", c.unexpected}, {"unknown", c.unknown}})
    s.sample(tests, {{"kind", kind}}, static_cast<double>(value));
  s.sample(s.gauge("netpol_proxy_completeness_pods_incomplete",
                   "Pods with a missing or unknown connection test."),
           {}, c.pods_incomplete);
  s.sample(s.gauge("netpol_proxy_completeness_netpols_incomplete",
                   "Netpols with a missing or unknown connection test."),
           {}, c.netpols_incomplete);
  s.sample(s.gauge("netpol_proxy_completeness_netpols_missing",
                   "Netpols with a missing connection test."),
           {}, c.netpols_missing);
}

/// Sampling during the job (--sample-interval), when it is on: the round's
/// sweeps and samples, and during the job what the last sweep says.
void add_sampling(scrape& s, const proxy_metrics& m) {
  auto& x = m.sampling;
  if (x.interval.count() <= 0)
    return;
  s.sample(s.gauge("netpol_proxy_sample_interval_seconds",
                   "Time between sweeps of the pods' results during the job "
                   "(--sample-interval)."),
           {}, std::chrono::duration<double>(x.interval).count());
  s.sample(s.gauge("netpol_proxy_sample_sweeps",
                   "Sweeps of the round's pods that ended."),
           {}, static_cast<double>(x.sweeps));
  s.sample(s.gauge("netpol_proxy_sample_last_sweep_seconds",
                   "How long the round's last sweep took."),
           {}, static_cast<double>(x.last_sweep_ms) / 1000.0);
  auto& answers = s.gauge("netpol_proxy_samples",
                          "The round's sampled answers, by result: taken "
                          "(validated) or failed.");
  s.sample(answers, {{"result", "taken"}}, static_cast<double>(x.taken));
  s.sample(answers, {{"result", "failed"}}, static_cast<double>(x.failed));
  auto& pods = s.gauge("netpol_proxy_sampled_pods",
                       "The round's pods with a sample, seen losing their "
                       "results (restarted), and served their sample.");
  s.sample(pods, {{"kind", "sampled"}}, x.pods_sampled);
  s.sample(pods, {{"kind", "restarted"}}, x.restarted);
  s.sample(pods, {{"kind", "served"}}, x.served);
  if (!m.has_sampled_completeness)
    return;
  auto& c = m.sampled_completeness;
  auto& tests = s.gauge(
    "netpol_proxy_sampled_completeness_tests",
    "During the job, the round's connection tests by what the last sweep's "
    "samples say: expected, reported, missing, duplicates, unexpected, "
    "unknown.");
  for (auto [kind, value] :
       {std::pair{"expected", c.expected}, {"reported", c.reported},
        {"missing", c.missing}, {"duplicates", c.duplicates},
        {"unexpected", c.unexpected}, {"unknown", c.unknown}})
    s.sample(tests, {{"kind", kind}}, static_cast<double>(value));
  s.sample(s.gauge("netpol_proxy_sampled_completeness_netpols_incomplete",
                   "During the job, netpols with a test not reported in the "
                   "last sweep's samples."),
           {}, c.netpols_incomplete);
}

/// The HTTP front: connections, requests and deadline closes.
void add_front(scrape& s, const front_counters& f) {
  s.sample(s.gauge(
             "netpol_proxy_http_connections",
             "HTTP connections open now (kube-burner, operators, anyone)."),
           {}, static_cast<double>(f.open_connections));
  s.sample(s.gauge("netpol_proxy_http_max_connections",
                   "The connection cap in effect (--max-connections)."),
           {}, static_cast<double>(f.max_connections));
  s.sample(s.counter("netpol_proxy_http_connections_accepted_total",
                     "HTTP connections accepted, including those refused at "
                     "the cap."),
           {}, static_cast<double>(f.accepted));
  s.sample(s.counter("netpol_proxy_http_connections_refused_total",
                     "HTTP connections answered 503 at once: the cap was "
                     "reached."),
           {}, static_cast<double>(f.refused_at_cap));
  s.sample(s.counter("netpol_proxy_http_requests_total",
                     "HTTP requests read whole and handed to a route."),
           {}, static_cast<double>(f.requests));
  s.sample(s.counter("netpol_proxy_http_requests_busy_total",
                     "HTTP requests answered 503: no thread or body slot in "
                     "time."),
           {}, static_cast<double>(f.refused_busy));
  auto& closed
    = s.counter("netpol_proxy_http_closed_total",
                "HTTP connections closed by a deadline, by deadline.");
  s.sample(closed, {{"deadline", "header"}},
           static_cast<double>(f.closed_header_deadline));
  s.sample(closed, {{"deadline", "body"}},
           static_cast<double>(f.closed_body_deadline));
  s.sample(closed, {{"deadline", "idle"}},
           static_cast<double>(f.closed_idle));
  s.sample(closed, {{"deadline", "write"}},
           static_cast<double>(f.closed_write_deadline));
}

} // namespace

std::string prometheus_text(const proxy_metrics& m, const front_counters& f,
                            const std::string& version) {
  scrape s;
  add_round(s, m, version);
  add_calls(s, m);
  add_latency(s, m);
  add_outcomes(s, m);
  add_sampling(s, m);
  add_front(s, f);
  return s.text();
}

} // namespace netpol
