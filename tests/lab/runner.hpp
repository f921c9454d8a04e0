// Runs one scenario end to end: the simulated fleet in this process, the real
// proxy as a child process, one kube-burner round driven over HTTP while
// /status is sampled, then the fleet's own account of what every pod saw.
#pragma once

#include "podsim/fleet.hpp"
#include "podsim/scenario.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace netpol::lab {

/// One GET /status taken during the round.
struct sample {
  double seconds = 0;           // since POST /initiate was sent
  std::string phase;            // the proxy's round phase
  std::vector<uint32_t> states; // pods per pod_state, in the enum's order
  uint32_t waiting_retry = 0;   // pods waiting out a backoff
  uint64_t calls = 0;
  uint64_t retries = 0;
};

struct run_options {
  std::string proxy_path;                            // netpol-proxy binary
  std::string log_dir;                               // <name>.proxy.log
  std::chrono::milliseconds sample_interval{100};    // GET /status
  std::chrono::milliseconds poll_interval{100};      // check*Status
  std::chrono::seconds max_wait{600};                // per phase, at most
};

struct run_result {
  std::string error;             // why the round failed to run; empty if it ran
  std::vector<podsim::pod_spec> pods;
  std::string initiate_body;
  bool delivery_done = false;    // /checkConnectionsStatus said true
  bool collection_done = false;  // /checkStopStatus said true
  double stop_sent_at = -1;      // seconds since POST /initiate; -1: not sent
  double wall_seconds = 0;       // the whole scenario, start-up included
  std::vector<sample> samples;
  nlohmann::json status;         // the last GET /status?pods=1
  bool have_results = false;
  std::string results_body;      // GET /results, as received
  // GET /report?all=1 (the proxy's completeness report): once before /stop,
  // where it must answer 409, and once after /results. 0: no answer.
  int report_early_status = 0;
  int report_status = 0;
  std::string report_body;       // the answer after /results
  std::vector<podsim::pod_report> fleet; // after the round
  std::string proxy_log;         // path of the proxy's log
  std::string proxy_exit;        // how the proxy ended after SIGTERM
};

/// Runs the scenario; never throws for a failing proxy (see run_result::error).
run_result run_scenario(const podsim::scenario& s, const run_options& opts);

/// One round of a soak: the round as run_scenario reports it, plus the
/// proxy's resources afterwards.
struct soak_round {
  int round = 0;
  run_result run;
  long rss_kb = 0;   // VmRSS of the proxy after the round
  long open_fds = 0; // entries of /proc/<pid>/fd after the round
};

/// Runs `rounds` rounds of the scenario against ONE proxy process, with a
/// fresh fleet each round (a client pod takes /check once), and calls `each`
/// after every round; `each` returning false ends the soak early. Returns an
/// error text if the fleet or the proxy could not be started.
std::string run_soak(const podsim::scenario& s, const run_options& opts,
                     int rounds, const std::function<bool(soak_round&)>& each);

/// The proxy flags for a scenario (the lab adds --listen and --client-port).
std::vector<std::string> proxy_flags(const podsim::scenario& s);

} // namespace netpol::lab
