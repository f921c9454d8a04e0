// Every typed actor interface of the proxy.
#pragma once

#include "messages/type_ids.hpp"

#include <caf/replies_to.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_behavior.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace netpol {

/// Makes one pod call per job through a pod_client.
using pod_worker_actor = caf::typed_actor<
  // POST /check with the job's connections to the job's pod.
  caf::replies_to<deliver_atom, pod_job>::with<pod_outcome>,
  // GET /results from the job's pod and validate the body.
  caf::replies_to<collect_atom, pod_job>::with<pod_outcome>,
  // GET /status from the job's unconfirmed pod: whether it holds the job's
  // connections (their SHA-256), took none, or cannot be asked.
  caf::replies_to<confirm_atom, pod_job>::with<pod_outcome>>;

/// Owns the round: every pod's state, the job queue and the worker pool.
using coordinator_actor = caf::typed_actor<
  // From the sampler: one pod's /results during the job (round, pod).
  caf::reacts_to<sample_atom, uint64_t, uint32_t, pod_outcome>,
  // From the sampler: what asking an unconfirmed pod settled (round, pod).
  caf::reacts_to<confirmed_atom, uint64_t, uint32_t, pod_outcome>,
  // From the sampler: a list sent again ended, or was dropped at /stop
  // (round, pod, its address): the address is free for the next call.
  caf::reacts_to<resent_atom, uint64_t, uint32_t, std::string, pod_outcome>,
  // From the sampler: its sweep of the round ended, with how many answers.
  caf::reacts_to<swept_atom, uint64_t, uint32_t>,
  // Internal: time for the round's next sweep.
  caf::reacts_to<sweep_atom, uint64_t>,
  // Starts a round; the running round's plan again changes nothing, another
  // plan supersedes a round not collected yet.
  caf::replies_to<initiate_atom, round_plan>::with<round_status>,
  // Notes a refused /initiate (HTTP status, reason): it ends a running round
  // and polls say so until the next accepted /initiate.
  caf::reacts_to<refused_atom, uint16_t, std::string>,
  // Starts collection from every pod of the round (no_round before any,
  // initiate_refused after a refused /initiate).
  caf::replies_to<stop_atom>::with<round_status>,
  // Polls: the cheap summary kube-burner's polls and the probes get.
  caf::replies_to<poll_atom>::with<round_status>,
  // /status: the round in detail; true adds every pod.
  caf::replies_to<status_atom, bool>::with<status_report>,
  // /report: completeness (all pods with a problem?, at most n netpols or 0
  // for all); no_round before collection started.
  caf::replies_to<report_atom, bool, uint32_t>::with<completeness_report>,
  // Answers every collected pod's results (results_not_ready before).
  caf::replies_to<results_atom>::with<results_snapshot>,
  // Answers the counters since start, for /metrics.
  caf::replies_to<metrics_atom>::with<proxy_metrics>,
  // Internal: a pod's backoff expired (round, pod index).
  caf::reacts_to<retry_atom, uint64_t, uint32_t>,
  // Internal: commits what settled since it was sent and starts the next
  // calls; sent to itself so that answers arriving together share a commit.
  caf::reacts_to<dispatch_atom>,
  // Internal: commits what changed since a commit was last due (collection
  // groups its commits: see round_journal::commit_soon).
  caf::reacts_to<commit_atom>,
  // Internal: logs the running phase's progress line and, while the phase
  // runs, sends itself the next one (the timer's number: a phase that
  // started since has a timer of its own, so an older one stops).
  caf::reacts_to<progress_atom, uint64_t>,
  // A clean stop: starts no more calls, answers once the calls in flight
  // (cancelled by the caller) have ended and are recorded: how many ended.
  caf::replies_to<drain_atom>::with<uint32_t>>;

/// Reads pods' /results during the job, through workers of its own.
using sampler_actor = caf::typed_actor<
  // Reads each pod of the sweep once and tells the coordinator each answer,
  // then that the sweep ended; a new sweep replaces what is left of one. A
  // job with connections asks an unconfirmed pod whether it holds them.
  caf::reacts_to<sweep_atom, sample_sweep>,
  // POST /check again with the job's list to a pod that took none, before
  // the sweep's next job; its end always goes back as resent_atom.
  caf::reacts_to<resend_atom, pod_job>,
  // /stop came: the pods not read yet are not; answers still out are
  // dropped; lists not sent again yet are not (and go back as resent_atom).
  caf::reacts_to<stop_atom>>;

} // namespace netpol
