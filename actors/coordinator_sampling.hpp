// The coordinator's side of sampling during the job (actors/sampler.hpp
// makes the calls): when a sweep starts and stops, what each answer does to
// the pod's sample (round_samples), and a pod's sample served as its results
// when the pod is lost by /stop. Functions of the coordinator's own
// pointer, run on its thread.
#pragma once

#include "actors/coordinator_calls.hpp"

namespace netpol {

/// Starts a sweep when the round is between delivery and /stop (and no
/// sweep runs or drain began): unconfirmed pods are asked whether they took
/// their list, and with sampling on every delivered or unconfirmed pod's
/// /results is read.
void start_sweep(coordinator_pointer self);

/// /stop, a new round or a drain: the sweep out stops at once.
void stop_sampling(coordinator_pointer self);

/// One answer of a sweep of `round`.
void take_sample(coordinator_pointer self, uint64_t round, uint32_t index,
                 pod_outcome& out);

/// What asking unconfirmed pod `index` of `round` whether it took its list
/// settled (the sampler's confirm job): delivered when it holds it; sent it
/// again (a call to its address) when it took none; asked again next sweep
/// when nothing was settled.
void take_confirmation(coordinator_pointer self, uint64_t round,
                       uint32_t index, pod_outcome& out);

/// The sampler died: the lists it was sending again free their addresses
/// and their pods are asked again, by a new sampler (spawned at the next
/// sweep, 10 s later in the job window).
void sampler_lost(coordinator_pointer self, const caf::error& reason);

/// A list sent again to pod `index` of `round` at `ip` ended: the address
/// is free; delivered when taken, failed when refused (3xx, 4xx), asked
/// again otherwise. After /stop or a new round it changes no pod.
void take_resend(coordinator_pointer self, uint64_t round, uint32_t index,
                 const std::string& ip, pod_outcome& out);

/// The sweep of `round` ended: the next one after --sample-interval (or,
/// with sampling off, while some unconfirmed pod is to be asked again).
void sweep_ended(coordinator_pointer self, uint64_t round, uint32_t answered);

/// A pod whose collection failed for good: its sample, if it has one, is
/// served as its results (and accounted for). Whether it had one.
bool serve_sample_of_lost_pod(coordinator_state& st, uint32_t index);

/// A pod collected at /stop: when its answer does not extend its sample
/// (it lost its results since), the sample replaces the answer in `out`.
void keep_sample_if_not_extended(coordinator_state& st, uint32_t index,
                                 pod_outcome& out);

} // namespace netpol
