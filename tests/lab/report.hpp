// What a lab run shows: per fault kind, where the proxy left the pods and
// whether every result a pod reported reached /results unchanged; per phase,
// how long it took against the bound (bounds.hpp). Rendered as Markdown for
// people and as summary.json for programs (the ctest suite reads it).
#pragma once

#include "lab/bounds.hpp"
#include "lab/runner.hpp"
#include "podsim/scenario.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace netpol::lab {

/// Pods of one fault kind (or all of them) by outcome.
struct kind_counts {
  uint64_t pods = 0;
  // Delivery outcome (/status?pods=1 "delivery"); pods the proxy never
  // settled are in none of the three.
  uint64_t delivered = 0;
  uint64_t unconfirmed = 0;
  uint64_t failed = 0;
  // Final state.
  uint64_t collected = 0;
  uint64_t collect_failed = 0;
  // connTest entries the pods generated when they took /check, and entries
  // /results holds for them.
  uint64_t entries_expected = 0;
  uint64_t entries_received = 0;
  uint64_t delivery_attempts = 0;
  uint64_t collection_attempts = 0;
  uint64_t duplicate_checks = 0; // /check after the pod had accepted one
  uint64_t in_results = 0;       // pods present in /results
  uint64_t intact = 0;           // ... with exactly the pod's bytes
  // The fleet's own account of how the reporting faults shaped the bodies
  // (podsim::pod_report), to cross-check the completeness figures.
  uint64_t tests = 0;            // tests of the lists the pods accepted
  uint64_t entries_omitted = 0;  // partial
  uint64_t entries_duplicated = 0; // duplicate
  uint64_t entries_alien = 0;    // alien

  void add(const kind_counts& other);
};

/// Completeness of a group of pods' tests (docs/experiments.md,
/// "Completeness"). A pod's expected tests are the (connection index,
/// address, port) triples of its list, each with its connection's netpol.
/// For a collected pod every reported entry is matched by (connectionidx,
/// address, port, npname): `reported` counts expected tests matched at least
/// once, `missing` those never matched, `duplicates` entries matching an
/// already matched test, `unexpected` entries matching none. A pod that was
/// not collected counts its expected tests as `unknown`, never as missing.
struct completeness_counts {
  uint64_t expected = 0;
  uint64_t reported = 0;
  uint64_t missing = 0;
  uint64_t duplicates = 0;
  uint64_t unexpected = 0;
  uint64_t unknown = 0;
  uint64_t pods_incomplete = 0; // pods with missing + unknown > 0

  void add(const completeness_counts& other);
  bool operator==(const completeness_counts& other) const;
  bool operator!=(const completeness_counts& other) const {
    return !(*this == other);
  }
};

/// The proxy's GET /report?all=1 beside the lab's own account of the same
/// round: `truth` from what the fleet knows (each pod's list and the exact
/// body it served, matched by the lab), `proxy` from the report (per kind:
/// its per-pod rows summed by the pods' fault kinds).
struct completeness_report {
  bool available = false;      // /report?all=1 answered 200 with the shape
  std::string error;           // why not
  int status_before_stop = 0;  // must be 409
  int status = 0;
  uint64_t round = 0;
  std::string phase;
  completeness_counts truth;
  completeness_counts proxy;   // its "completeness" object
  uint64_t truth_netpols = 0;            // netpols of every pod's list
  uint64_t truth_netpols_incomplete = 0; // ... with missing + unknown > 0
  uint64_t proxy_netpols_incomplete = 0;
  uint64_t proxy_netpols_listed = 0;
  uint64_t netpols_differing = 0;        // listed netpols whose figures differ
  uint64_t proxy_pods_total = 0;
  uint64_t proxy_pods_listed = 0;
  uint64_t truth_pods_total = 0; // pods with a problem
  uint64_t pods_differing = 0;           // pods whose figures differ
  struct kind {
    podsim::fault fault;
    completeness_counts truth;
    completeness_counts proxy;
  };
  std::vector<kind> kinds; // present kinds, in fault order
  /// The report was there and every figure matched the truth.
  bool matches() const;
};

struct phase_report {
  double seconds = 0; // the proxy's own measure (/status)
  uint64_t calls = 0; // pod calls in the phase (sum of attempts)
  stage_bound bound;
  bool within = false;
};

/// Something wrong with what kube-burner would receive.
struct integrity_problem {
  std::string pod; // empty for the body as a whole
  std::string kind;
  std::string what;
};

struct scenario_report {
  podsim::scenario scenario;
  std::string file;
  std::string error; // the round could not be run or did not finish
  bool finished = false;
  std::vector<std::pair<podsim::fault, kind_counts>> kinds; // present kinds
  kind_counts total;
  phase_report delivery;
  phase_report collection;
  uint64_t calls = 0;
  uint64_t retries = 0;
  uint64_t worker_restarts = 0;
  uint64_t results_bytes = 0;
  bool results_valid_json = false;
  uint64_t healthy = 0;        // pods without a fault
  uint64_t healthy_intact = 0; // ... whose results arrived unchanged
  // When healthy pods got their list, in seconds after /initiate: a pod
  // starts testing its connections only then, so this delay adds to the
  // latencies kube-burner measures. p50, p99, max; zero without healthy pods.
  double healthy_delivered_p50 = 0;
  double healthy_delivered_p99 = 0;
  double healthy_delivered_max = 0;
  std::vector<integrity_problem> problems;
  completeness_report completeness;
  double wall_seconds = 0;
  std::string proxy_exit;
  std::string proxy_log;
  std::string chart; // file name of the SVG, relative to the report

  /// The round finished within its bounds and kube-burner would have got a
  /// valid /results with every healthy pod's results unchanged.
  bool ok() const;
};

/// Compares what the proxy reported and served with what each pod knows:
/// /results byte for byte, the lists the pods took, duplicate /checks, and
/// the completeness report against the lab's own count.
scenario_report analyse(const podsim::scenario& s, const std::string& file,
                        const run_result& run);

/// One scenario: settings, table per fault kind, phases, problems.
std::string markdown_section(const scenario_report& r);

/// Scenarios side by side, one row each.
std::string markdown_overview(const std::vector<scenario_report>& all);

/// summary.json: every number of the Markdown report, per scenario and kind.
nlohmann::json summary_json(const std::vector<scenario_report>& all);

/// The /status samples behind the chart, one CSV row each: seconds, phase,
/// pods per state, waiting_retry, calls, retries.
std::string samples_csv(const std::vector<sample>& samples);

} // namespace netpol::lab
