// What the coordinator answers about its round: status, /status, /report,
// /metrics, and the completeness lines logged when collection ends. Pure
// functions of the coordinator's state, kept apart from its behaviour.
#pragma once

#include "actors/coordinator.hpp"

#include <utility>

namespace netpol {

/// The cheap summary every poll gets (and /initiate, /stop, /metrics).
round_status make_round_status(const coordinator_state& st);

/// Pod `index` for /status.
pod_detail make_detail(const coordinator_state& st, uint32_t index);

/// Sampling during the job, for /status.
sampling_totals sampling_of(const coordinator_state& st);

/// Delivery and collection time of the round so far.
std::pair<caf::timespan, caf::timespan>
phase_durations(const coordinator_state& st, caf::actor_clock::time_point now);

/// The round's completeness totals so far (pods_incomplete included).
completeness_totals completeness_of(const coordinator_state& st);

/// /status: the first problem pods (every pod with `all_pods`).
status_report make_status_report(const coordinator_state& st,
                                 caf::actor_clock::time_point now,
                                 bool all_pods);

/// /report: netpols worst first (at most `max_netpols`, 0 for all), pods
/// with a problem (the first max_listed_problems unless `all_pods`).
completeness_report make_completeness_report(const coordinator_state& st,
                                             bool all_pods,
                                             uint32_t max_netpols);

/// Whether /report answers from samples: the job runs (no /stop yet) and a
/// sweep ended.
bool has_sampled_report(const coordinator_state& st);

/// What the last sweep's samples say of the round's tests.
completeness_totals sampled_totals(const coordinator_state& st);

/// /report during the job, from the last sweep's samples (needs
/// has_sampled_report), in /report's shape after /stop.
completeness_report make_sampled_report(const coordinator_state& st,
                                        bool all_pods, uint32_t max_netpols);

/// /metrics.
proxy_metrics make_metrics(const coordinator_state& st,
                           caf::actor_clock::time_point now);

/// The lines logged when collection ends: a summary, then up to
/// `max_lines` of the worst netpols with a few of their pods.
void log_completeness(const coordinator_state& st, size_t max_lines = 20);

} // namespace netpol
