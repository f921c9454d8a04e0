#include "actors/coordinator_sampling.hpp"

#include "actors/completeness.hpp"
#include "actors/results_body.hpp"
#include "actors/round_book.hpp"
#include "actors/round_store.hpp"
#include "actors/sampler.hpp"
#include "messages/duration.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <ctime>

namespace netpol {

namespace {

/// The sampler's lane: a couple of workers, so a sweep of a large round
/// takes a while rather than load (one GET per pod and sweep).
constexpr uint32_t sample_lane_width = 2;

/// `14:03:07` (UTC) for log lines.
std::string clock_text(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
  return buf;
}

bool sampling_window(const coordinator_state& st) {
  return st.settings.sample_interval.count() > 0
         && st.meta.current == phase::delivered && !st.meta.stop_requested
         && !st.drain.draining;
}

/// What a served sample says of pod `index`'s tests, as collection's worker
/// works it out from an answer (pod_worker.cpp).
pod_completeness account_of(const coordinator_state& st, uint32_t index,
                            std::string_view body) {
  if (!st.progress.catalog.ptr)
    return {};
  pod_matcher matcher{*st.progress.catalog.ptr,
                      st.progress.pods[index].expected.view()};
  validate_results_body(
    body, [&](const results_entry& entry) { matcher.add(entry); });
  return matcher.finish();
}

/// Serves `sample` as pod `index`'s results, for `why`.
void serve(coordinator_state& st, uint32_t index, const pod_sample& sample,
           std::string why) {
  auto& pod = st.progress.pods[index];
  pod.results = sample.body;
  pod.results_entries = sample.entries;
  pod.served_sample = std::move(why);
  pod.served_sample_taken_unix_ms = sample.taken_unix_ms;
  ++st.progress.samples.served;
  spdlog::warn("Pod {}: serving its sample of {} UTC ({} entries) as its "
               "results: {}",
               pod.ip, clock_text(sample.taken_unix_ms), sample.entries,
               pod.served_sample);
}

} // namespace

void start_sweep(coordinator_pointer self) {
  auto& st = self->state;
  auto& samples = st.progress.samples;
  if (!sampling_window(st) || samples.sweep_running)
    return;
  if (!st.sampler)
    st.sampler = self->spawn(sampler,
                             caf::actor_cast<coordinator_actor>(self),
                             st.make_worker, sample_lane_width,
                             st.settings.worker_deadline());
  sample_sweep sweep;
  sweep.round = st.meta.round;
  for (uint32_t index = 0; index < st.progress.pods.size(); ++index) {
    auto& pod = st.progress.pods[index];
    if (pod.state != pod_state::delivered
        && pod.state != pod_state::unconfirmed)
      continue;
    pod_job job;
    job.round = st.meta.round;
    job.pod = index;
    job.ip = pod.ip;
    // Validated only: no account of its tests, no compressed copy; a
    // sample served gets both then (account_of).
    sweep.jobs.push_back(std::move(job));
  }
  if (sweep.jobs.empty())
    return;
  if (samples.sweeps == 0)
    spdlog::info("Sampling the results of {} pods every {} until /stop ({} "
                 "workers of its own)",
                 sweep.jobs.size(),
                 describe_duration(st.settings.sample_interval),
                 sample_lane_width);
  samples.sweep_running = true;
  samples.sweep_started_unix_ms = unix_ms_now();
  self->send(st.sampler, sweep_atom_v, std::move(sweep));
}

void stop_sampling(coordinator_pointer self) {
  auto& st = self->state;
  if (st.sampler && st.progress.samples.sweep_running)
    self->send(st.sampler, stop_atom_v);
  st.progress.samples.sweep_running = false;
}

void take_sample(coordinator_pointer self, uint64_t round, uint32_t index,
                 pod_outcome& out) {
  auto& st = self->state;
  if (round != st.meta.round || st.meta.stop_requested
      || index >= st.progress.pods.size())
    return; // /stop came: collection has the last word
  auto& samples = st.progress.samples;
  if (out.status != call_status::ok) {
    ++samples.failed;
    return;
  }
  auto entries = out.entries;
  auto* before = samples.find(index);
  auto entries_before = before ? before->entries : 0;
  auto taken = samples.take(index, out, unix_ms_now());
  auto& sample = samples.pods[index];
  bool first_not_extending = taken == sample_taken::not_extending
                             && sample.not_extending == 1;
  if (first_not_extending)
    spdlog::warn("Pod {}: its results ({} entries) no longer extend its "
                 "sample of {} UTC ({} entries): it lost them (restarted?); "
                 "the sample is kept",
                 st.progress.pods[index].ip, entries,
                 clock_text(sample.taken_unix_ms), sample.entries);
  // Written only when it changed what a restart would serve: a sweep of
  // answers that did not change writes nothing.
  if (taken == sample_taken::first || first_not_extending
      || (taken == sample_taken::extended && sample.entries > entries_before)) {
    st.journal.save_sample(round, index, sample);
    commit_soon(self);
  }
}

void sweep_ended(coordinator_pointer self, uint64_t round, uint32_t) {
  auto& st = self->state;
  auto& samples = st.progress.samples;
  if (round != st.meta.round || !samples.sweep_running)
    return;
  samples.sweep_running = false;
  ++samples.sweeps;
  samples.last_sweep_ms = unix_ms_now() - samples.sweep_started_unix_ms;
  if (sampling_window(st))
    self->delayed_send(self, st.settings.sample_interval, sweep_atom_v,
                       round);
}

bool serve_sample_of_lost_pod(coordinator_state& st, uint32_t index) {
  auto* sample = st.progress.samples.find(index);
  if (sample == nullptr)
    return false;
  auto& pod = st.progress.pods[index];
  serve(st, index, *sample, "collection failed: " + pod.collection_error);
  account_collected(st, index, account_of(st, index, sample->body.view()));
  st.progress.results_bytes += pod.results.size();
  st.progress.results_entries += pod.results_entries;
  // Kept as collected results are, so that a restart serves it still.
  if (st.journal.durable())
    st.journal.save_collected(st.meta.round, index,
                              compress_blob(pod.results.view()));
  st.journal.drop_sample(st.meta.round, index);
  st.progress.samples.pods.erase(index);
  return true;
}

void keep_sample_if_not_extended(coordinator_state& st, uint32_t index,
                                 pod_outcome& out) {
  auto i = st.progress.samples.pods.find(index);
  if (i == st.progress.samples.pods.end())
    return;
  auto sample = std::move(i->second);
  st.progress.samples.pods.erase(i);
  st.journal.drop_sample(st.meta.round, index);
  if (extends(sample.body.view(), sample.entries, out.body.view()))
    return; // the answer has everything the sample had
  serve(st, index, sample,
        "its answer at /stop (" + std::to_string(out.entries)
          + " entries) does not extend the sample: it lost its results");
  out.body = sample.body;
  out.entries = sample.entries;
  out.completeness = account_of(st, index, sample.body.view());
  out.compressed = st.journal.durable() ? compress_blob(out.body.view())
                                        : shared_bytes{};
}

} // namespace netpol
