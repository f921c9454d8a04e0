#include "actors/coordinator_sampling.hpp"

#include "actors/completeness.hpp"
#include "actors/list_confirmation.hpp"
#include "actors/results_body.hpp"
#include "actors/round_book.hpp"
#include "actors/round_store.hpp"
#include "actors/sampler.hpp"
#include "messages/duration.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
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

/// How long an unconfirmed pod that could not be asked waits to be asked
/// again when sampling is off (with sampling on: until the next sweep).
constexpr auto confirm_retry_interval = std::chrono::seconds{10};

/// Between delivery and /stop, and not draining.
bool job_window(const coordinator_state& st) {
  return st.meta.current == phase::delivered && !st.meta.stop_requested
         && !st.drain.draining;
}

bool sampling_on(const coordinator_state& st) {
  return st.settings.sample_interval.count() > 0;
}

/// An unconfirmed pod not asked to the end yet: never asked, or nothing
/// settled by the last ask.
bool awaits_asking(const pod_record& pod) {
  return pod.state == pod_state::unconfirmed
         && (pod.confirmation == list_confirmation::none
             || pod.confirmation == list_confirmation::not_taken);
}

/// The list `pod` was sent (rebuilt from its tests when it was canonical
/// and is no longer kept); empty when it is not known.
shared_bytes list_sent(const coordinator_state& st, const pod_record& pod) {
  if (pod.connections.size() > 0)
    return pod.connections;
  if (pod.canonical && st.progress.catalog.ptr)
    return shared_bytes{
      connections_json(*st.progress.catalog.ptr, pod.expected.view())};
  return {};
}

/// Some pod's list is out again (its confirmation comes with the end).
bool any_sent_again(const coordinator_state& st) {
  return std::any_of(st.progress.pods.begin(), st.progress.pods.end(),
                     [](auto& pod) {
                       return pod.confirmation
                              == list_confirmation::sending_again;
                     });
}

/// A pod that awaits asking, and the list it was sent.
bool to_confirm(const coordinator_state& st, const pod_record& pod,
                shared_bytes& list) {
  if (!awaits_asking(pod))
    return false;
  list = list_sent(st, pod);
  return list.size() > 0;
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

/// Adds pod `index` to the sweep's view: by the `account` of the sample
/// just taken, or (null) by its last sample, matched again: a pod that did
/// not answer or lost its results (few) still counts with what it had.
void add_to_view(coordinator_state& st, uint32_t index,
                 const pod_completeness* account) {
  auto& samples = st.progress.samples;
  if (!samples.building)
    return;
  auto* sample = samples.find(index);
  if (sample == nullptr)
    return; // nothing known of it yet: its tests stay unknown
  auto& pod = st.progress.pods[index];
  if (account != nullptr) {
    samples.building->add(index, pod.tests, *account,
                          took_its_list(pod, *account),
                          sample->taken_unix_ms);
    return;
  }
  auto again = account_of(st, index, sample->body.view());
  samples.building->add(index, pod.tests, again, took_its_list(pod, again),
                        sample->taken_unix_ms);
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

/// The sweep's jobs: unconfirmed pods to ask first (a job with their list),
/// then, with sampling on, every delivered or unconfirmed pod's /results.
sample_sweep make_sweep(const coordinator_state& st) {
  sample_sweep sweep;
  sweep.round = st.meta.round;
  auto job_of = [&](uint32_t index) {
    pod_job job;
    job.round = st.meta.round;
    job.pod = index;
    job.ip = st.progress.pods[index].ip;
    return job;
  };
  for (uint32_t index = 0; index < st.progress.pods.size(); ++index) {
    shared_bytes list;
    if (!to_confirm(st, st.progress.pods[index], list))
      continue;
    auto job = job_of(index);
    job.payload = std::move(list);
    sweep.jobs.push_back(std::move(job));
  }
  if (!sampling_on(st))
    return sweep;
  for (uint32_t index = 0; index < st.progress.pods.size(); ++index) {
    auto& pod = st.progress.pods[index];
    if (pod.state != pod_state::delivered
        && pod.state != pod_state::unconfirmed)
      continue;
    auto job = job_of(index);
    // Matched against its tests for the sweep's view (/report during the
    // job), which keeps the sums only; no compressed copy.
    job.expected = pod.expected;
    job.catalog = st.progress.catalog;
    sweep.jobs.push_back(std::move(job));
  }
  return sweep;
}

} // namespace

void start_sweep(coordinator_pointer self) {
  auto& st = self->state;
  auto& samples = st.progress.samples;
  if (!job_window(st) || samples.sweep_running)
    return;
  auto sweep = make_sweep(st);
  if (sweep.jobs.empty()) {
    // Sampling off, only lists out again: look again once they ended.
    if (any_sent_again(st))
      self->delayed_send(self, caf::timespan{confirm_retry_interval},
                         sweep_atom_v, st.meta.round);
    return;
  }
  if (!st.sampler) {
    st.sampler = self->spawn(sampler,
                             caf::actor_cast<coordinator_actor>(self),
                             st.make_worker, sample_lane_width,
                             st.settings.worker_deadline());
    self->monitor(st.sampler); // its death must not hold addresses
  }
  if (samples.sweeps == 0 && sampling_on(st))
    spdlog::info("Sampling the results of {} pods every {} until /stop ({} "
                 "workers of its own)",
                 std::count_if(sweep.jobs.begin(), sweep.jobs.end(),
                               [](auto& job) { return job.payload.size() == 0; }),
                 describe_duration(st.settings.sample_interval),
                 sample_lane_width);
  samples.sweep_running = true;
  samples.sweep_started_unix_ms = unix_ms_now();
  if (st.progress.catalog.ptr && sampling_on(st))
    samples.building.emplace(st.progress.catalog.ptr);
  self->send(st.sampler, sweep_atom_v, std::move(sweep));
}

void stop_sampling(coordinator_pointer self) {
  auto& st = self->state;
  if (st.sampler) // also drops lists not sent again yet
    self->send(st.sampler, stop_atom_v);
  st.progress.samples.sweep_running = false;
  st.progress.samples.building.reset();
  st.progress.samples.view.reset(); // collection has the word from now on
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
    add_to_view(st, index, nullptr); // its last sample, if any
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
  // A pod whose answer does not extend its sample counts by the sample.
  add_to_view(st, index,
              taken != sample_taken::not_extending ? &out.completeness
                                                   : nullptr);
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
  if (samples.building) {
    samples.view = std::move(samples.building);
    samples.building.reset();
  }
  samples.last_sweep_ms = unix_ms_now() - samples.sweep_started_unix_ms;
  if (!job_window(st))
    return;
  if (sampling_on(st))
    self->delayed_send(self, st.settings.sample_interval, sweep_atom_v,
                       round);
  else if (std::any_of(st.progress.pods.begin(), st.progress.pods.end(),
                       awaits_asking)
           || any_sent_again(st)) // some pod to ask again, or that may be
    self->delayed_send(self, caf::timespan{confirm_retry_interval},
                       sweep_atom_v, round);
}

namespace {

/// Pod `index` took its list after all: delivered, as if its /check had
/// been answered.
void confirm_delivered(coordinator_pointer self, uint32_t index,
                       const std::string& how) {
  auto& st = self->state;
  auto& pod = st.progress.pods[index];
  --st.progress.unconfirmed;
  ++st.progress.delivered;
  pod.delivery_outcome = pod_state::delivered;
  pod.connections = {};
  // No longer a problem pod (as a restart would count it); its delivery
  // error stays, saying what happened.
  auto& problems = st.progress.problem_pods;
  problems.erase(std::remove(problems.begin(), problems.end(), index),
                 problems.end());
  pod.listed_as_problem = false;
  set_state(st, pod, pod_state::delivered);
  spdlog::info("Pod {}: delivery confirmed: {}", pod.ip, how);
  commit_soon(self);
}

/// Pod `index` had taken no list and refused it when sent again: failed,
/// as a pod that refuses its /check in delivery.
void refused_when_sent_again(coordinator_pointer self, uint32_t index,
                             const std::string& why) {
  auto& st = self->state;
  auto& pod = st.progress.pods[index];
  --st.progress.unconfirmed;
  ++st.progress.delivery_failed;
  pod.delivery_outcome = pod_state::failed;
  pod.delivery_error = "sent again after GET /status said it took no list: "
                       + why;
  pod.connections = {};
  set_state(st, pod, pod_state::failed);
  spdlog::warn("Pod {}: delivery failed: it had taken no list (GET /status) "
               "and refused it when sent again: {}",
               pod.ip, why);
  commit_soon(self);
}

std::string describe_outcome(const pod_outcome& out) {
  return out.detail.empty() ? to_string(out.status) : out.detail;
}

/// Pod `index` took no list: it is sent its list again through the
/// sampler's lane, a call to its address that the pool's next call to it
/// (collection after /stop, a new round's /check) waits for.
void send_again(coordinator_pointer self, uint32_t index) {
  auto& st = self->state;
  auto& pod = st.progress.pods[index];
  pod_job job;
  job.round = st.meta.round;
  job.pod = index;
  job.ip = pod.ip;
  job.payload = list_sent(st, pod);
  if (job.payload.size() == 0 || !st.sampler || !job_window(st))
    return; // asked again: only between delivery and /stop
  pod.confirmation = list_confirmation::sending_again;
  hold_address(st, pod.ip);
  ++st.resends_out[pod.ip];
  spdlog::info("Pod {}: it took no list (GET /status); sending it again",
               pod.ip);
  self->send(st.sampler, resend_atom_v, std::move(job));
}

} // namespace

void take_confirmation(coordinator_pointer self, uint64_t round,
                       uint32_t index, pod_outcome& out) {
  auto& st = self->state;
  if (round != st.meta.round || st.meta.stop_requested
      || index >= st.progress.pods.size()
      || st.progress.pods[index].state != pod_state::unconfirmed)
    return; // /stop came: collection has the last word
  auto& pod = st.progress.pods[index];
  auto& totals = st.progress.samples.confirmations;
  if (pod.confirmation == list_confirmation::none)
    ++totals.confirm_asked;
  pod.confirmation = out.confirmation;
  switch (out.confirmation) {
    case list_confirmation::held:
      ++totals.confirm_held;
      return confirm_delivered(self, index, out.detail);
    case list_confirmation::not_taken:
      return send_again(self, index);
    case list_confirmation::cannot_ask:
      ++totals.confirm_cannot;
      pod.connections = {}; // not asked again: the list is not needed
      spdlog::info("Pod {}: stays unconfirmed: cannot be asked whether it "
                   "took its list ({}); /check is never sent twice",
                   pod.ip, out.detail);
      return;
    case list_confirmation::other_list:
      ++totals.confirm_other;
      pod.connections = {};
      spdlog::warn("Pod {}: stays unconfirmed: {}", pod.ip, out.detail);
      return;
    default: // no answer to read: ask again
      ++totals.confirm_failed;
      pod.confirmation = list_confirmation::not_taken;
  }
}

void take_resend(coordinator_pointer self, uint64_t round, uint32_t index,
                 const std::string& ip, pod_outcome& out) {
  auto& st = self->state;
  auto out_again = st.resends_out.find(ip);
  if (out_again == st.resends_out.end())
    return; // freed when the sampler died
  if (--out_again->second == 0)
    st.resends_out.erase(out_again);
  release_address(st, ip);
  dispatch(self); // a call that waited for the address goes now
  bool current = round == st.meta.round && index < st.progress.pods.size()
                 && st.progress.pods[index].confirmation
                      == list_confirmation::sending_again;
  if (!current || st.meta.stop_requested
      || st.progress.pods[index].state != pod_state::unconfirmed) {
    if (out.status == call_status::ok)
      spdlog::warn("Pod {}: took its list, sent again, only after /stop or "
                   "a new round: it stays unconfirmed",
                   ip);
    return;
  }
  auto& pod = st.progress.pods[index];
  auto& totals = st.progress.samples.confirmations;
  // As in delivery (docs/protocol.md §3): a 3xx or 4xx is the pod's last
  // word on this list, anything else may pass.
  bool refused = out.status == call_status::http_error
                 && out.http_status >= 300 && out.http_status < 500;
  if (out.status == call_status::ok) {
    pod.confirmation = list_confirmation::sent_again;
    ++totals.confirm_sent;
    return confirm_delivered(self, index,
                             "it had taken no list (GET /status); sent "
                             "again, and taken");
  }
  if (refused) {
    pod.confirmation = list_confirmation::refused;
    ++totals.confirm_refused;
    return refused_when_sent_again(self, index, describe_outcome(out));
  }
  pod.confirmation = list_confirmation::not_taken; // asked again
  if (out.status == call_status::cancelled && !out.request_sent)
    return; // never sent: a clean stop came first
  ++totals.confirm_failed;
  spdlog::warn("Pod {}: sending its list again failed ({}); it is asked "
               "again",
               pod.ip, describe_outcome(out));
}

void sampler_lost(coordinator_pointer self, const caf::error& reason) {
  auto& st = self->state;
  spdlog::warn("The sampler stopped ({}); {} lists it was sending again are "
               "taken as not sent, and their pods are asked again",
               self->system().render(reason), st.resends_out.size());
  for (auto& [ip, count] : st.resends_out)
    for (uint32_t i = 0; i < count; ++i)
      release_address(st, ip);
  st.resends_out.clear();
  for (auto& pod : st.progress.pods)
    if (pod.confirmation == list_confirmation::sending_again)
      pod.confirmation = list_confirmation::not_taken;
  st.sampler = nullptr;
  st.progress.samples.sweep_running = false;
  st.progress.samples.building.reset();
  dispatch(self);
  if (job_window(st))
    self->delayed_send(self, caf::timespan{confirm_retry_interval},
                       sweep_atom_v, st.meta.round);
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
  // Its stored sample stays until the next round: a restart ignores the
  // samples of collected pods (round_restore.cpp), and a delete per pod
  // would cost collection a write each.
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
