// How long a phase of a round may take, from the proxy's settings alone
// (docs/experiments.md, "The bound").
//
// A call ends within T = connect + request timeout. A pod's stage ends within
// P = (retries + 1) × T + the backoffs between its attempts. A pod waits in
// the ready queue only while every worker is busy, and all workers together
// are busy for at most calls × T, so for at most ceil(calls / workers) × T of
// wall time. The last pod of a phase therefore finishes within
//   bound = ceil(calls / workers) × T + P
// where calls are the phase's pod calls (the sum of the pods' attempts).
#pragma once

#include "messages/settings.hpp"
#include "podsim/scenario.hpp"

#include <cstdint>

namespace netpol::lab {

/// Noise allowed on top of the bound: thread wake-ups, timers firing late,
/// the coordinator's own latency.
constexpr double bound_slack_seconds = 0.5;

struct stage_bound {
  double call_seconds = 0;  // T
  double pod_seconds = 0;   // P
  double phase_seconds = 0; // ceil(calls / workers) × T + P
};

/// The proxy's settings for a scenario's proxy section.
proxy_settings to_settings(const podsim::proxy_config& config);

/// The bound of one phase that made `calls` pod calls.
stage_bound phase_bound(const podsim::proxy_config& config, uint64_t calls);

/// The bound before anything is known: every pod uses every attempt.
stage_bound worst_case_bound(const podsim::proxy_config& config,
                             uint64_t pods);

} // namespace netpol::lab
