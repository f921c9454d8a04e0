#include "actors/round_views.hpp"

#include "actors/round_book.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace netpol {

namespace {

/// 12,000 as "12,000": completeness lines carry big counts.
std::string grouped(uint64_t n) {
  auto digits = std::to_string(n);
  std::string result;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      result += ',';
    result += digits[i];
  }
  return result;
}

uint32_t unknown_of(const pod_record& pod) {
  return pod.tests - pod.reported - pod.missing;
}

} // namespace

round_status make_round_status(const coordinator_state& st) {
  round_status result;
  result.round = st.meta.round;
  result.current = st.meta.current;
  result.pods = static_cast<uint32_t>(st.progress.pods.size());
  result.counts.assign(st.progress.counts.begin(), st.progress.counts.end());
  result.in_backoff = st.progress.in_backoff;
  result.delivered = st.progress.delivered;
  result.unconfirmed = st.progress.unconfirmed;
  result.delivery_failed = st.progress.delivery_failed;
  if (st.lifecycle.refusal_pending && !running(st))
    result.refusal = st.lifecycle.last_refusal.reason;
  return result;
}

pod_detail make_detail(const coordinator_state& st, uint32_t index) {
  auto& pod = st.progress.pods[index];
  pod_detail result;
  result.ip = pod.ip;
  result.state = pod.state;
  result.delivery_outcome = pod.delivery_outcome;
  result.delivery_attempts = pod.delivery_attempts;
  result.collection_attempts = pod.collection_attempts;
  result.delivery_error = pod.delivery_error;
  result.collection_error = pod.collection_error;
  result.delivered_after = pod.delivered_after;
  result.collected_after = pod.collected_after;
  result.results_entries = pod.results_entries;
  if (auto* sample = st.progress.samples.find(index)) {
    result.sample_entries = sample->entries;
    result.sample_taken_unix_ms = sample->taken_unix_ms;
    result.restart_seen_unix_ms = sample->restart_seen_unix_ms;
  }
  if (!pod.served_sample.empty()) {
    result.served_sample = pod.served_sample;
    result.sample_taken_unix_ms = pod.served_sample_taken_unix_ms;
  }
  return result;
}

sampling_totals sampling_of(const coordinator_state& st) {
  auto& samples = st.progress.samples;
  sampling_totals result = samples.confirmations;
  result.interval = st.settings.sample_interval;
  result.sweeps = samples.sweeps;
  result.taken = samples.taken;
  result.failed = samples.failed;
  result.pods_sampled = static_cast<uint32_t>(samples.pods.size());
  result.restarted = samples.restarted;
  result.served = samples.served;
  result.last_sweep_ms = samples.last_sweep_ms;
  return result;
}

std::pair<caf::timespan, caf::timespan>
phase_durations(const coordinator_state& st,
                caf::actor_clock::time_point now) {
  caf::timespan delivery{0};
  caf::timespan collection{0};
  if (st.meta.current != phase::idle && !st.progress.pods.empty())
    delivery
      = (st.meta.current == phase::delivering ? now : st.progress.delivered_at)
        - st.progress.started_at;
  if (st.meta.stop_requested)
    collection
      = (st.meta.current == phase::collected ? st.progress.collected_at : now)
        - st.progress.stop_at;
  return {delivery, collection};
}

completeness_totals completeness_of(const coordinator_state& st) {
  auto result = st.progress.completeness.totals();
  result.pods_incomplete
    = st.progress.pods_with_tests - st.progress.pods_complete;
  return result;
}

namespace {

/// Pods waiting for a retry's backoff, in pod order: no list is kept, so
/// they are looked for only while some wait, and only until all of them
/// (or as many as are listed) were found.
void list_retrying(const coordinator_state& st, bool all_pods,
                   status_report& result) {
  result.retrying_total = st.progress.in_backoff;
  size_t wanted = all_pods ? st.progress.in_backoff
                           : std::min<size_t>(st.progress.in_backoff,
                                              max_listed_problems);
  for (uint32_t index = 0; index < st.progress.pods.size(); ++index) {
    if (result.retrying.size() == wanted)
      break;
    if (st.progress.pods[index].awaiting_retry)
      result.retrying.push_back(make_detail(st, index));
  }
}

} // namespace

status_report make_status_report(const coordinator_state& st,
                                 caf::actor_clock::time_point now,
                                 bool all_pods) {
  status_report result;
  result.status = make_round_status(st);
  result.started_unix_ms = st.meta.started_unix_ms;
  std::tie(result.delivery_duration, result.collection_duration)
    = phase_durations(st, now);
  result.calls = st.meta.calls;
  result.retries = st.meta.retries;
  result.worker_restarts = st.pool.restarts;
  result.results_bytes = st.progress.results_bytes;
  result.results_entries = st.progress.results_entries;
  // From the list kept as pods fail, not a scan of every pod: /status
  // stays cheap in rounds of tens of thousands of pods.
  result.problems_total
    = static_cast<uint32_t>(st.progress.problem_pods.size());
  auto listed
    = all_pods ? st.progress.problem_pods.size()
               : std::min(st.progress.problem_pods.size(), max_listed_problems);
  for (size_t i = 0; i < listed; ++i)
    result.problems.push_back(
      make_detail(st, st.progress.problem_pods[i]));
  list_retrying(st, all_pods, result);
  if (all_pods)
    for (uint32_t index = 0; index < st.progress.pods.size(); ++index)
      result.pods.push_back(make_detail(st, index));
  result.has_completeness
    = st.meta.stop_requested && st.progress.catalog.ptr != nullptr;
  if (result.has_completeness)
    result.completeness = completeness_of(st);
  result.superseded.assign(st.lifecycle.superseded.begin(),
                           st.lifecycle.superseded.end());
  result.has_refusal = st.lifecycle.has_refusal;
  result.last_refusal = st.lifecycle.last_refusal;
  result.persistence = st.journal.health();
  result.sampling = sampling_of(st);
  result.timeline = st.progress.timeline.view(now, st.progress.counts);
  return result;
}

namespace {

/// The netpols of `completeness`, worst first, into `result`.
void add_netpol_rows(const coordinator_state& st,
                     const round_completeness& completeness,
                     uint32_t max_netpols, completeness_report& result) {
  auto* catalog = completeness.catalog();
  auto& accounts = completeness.netpols();
  result.netpols_total = static_cast<uint32_t>(accounts.size());
  for (auto id : completeness.worst_netpols(max_netpols)) {
    auto& account = accounts[id];
    netpol_report row;
    row.name = catalog->netpols[id];
    row.expected = account.expected;
    row.reported = account.reported;
    row.missing = account.missing;
    row.unknown = completeness.unknown(id);
    row.pods = catalog->netpol_pods[id];
    row.pods_missing = account.pods_missing;
    row.first = account.first;
    row.last = account.last;
    for (auto pod : account.sample_pods)
      row.sample_pods.push_back(st.progress.pods[pod].ip);
    result.netpols.push_back(std::move(row));
  }
  result.curve = completeness.curve();
}

/// A /report row of pod `index`, its numbers to be filled in.
pod_completeness_row pod_row(const coordinator_state& st, uint32_t index,
                             const std::vector<uint32_t>* missing_netpols) {
  auto& pod = st.progress.pods[index];
  pod_completeness_row row;
  row.ip = pod.ip;
  row.state = pod.state;
  row.delivery = pod.delivery_outcome;
  row.expected = pod.tests;
  if (missing_netpols != nullptr)
    for (auto id : *missing_netpols)
      row.missing_netpols.push_back(st.progress.catalog.ptr->netpols[id]);
  return row;
}

size_t listed_count(size_t listed, bool all_pods) {
  return all_pods ? listed : std::min(listed, max_listed_problems);
}

} // namespace

completeness_report make_completeness_report(const coordinator_state& st,
                                             bool all_pods,
                                             uint32_t max_netpols) {
  completeness_report result;
  result.round = st.meta.round;
  result.current = st.meta.current;
  result.collection_done = st.meta.current == phase::collected;
  result.totals = completeness_of(st);
  if (st.progress.completeness.catalog() == nullptr)
    return result;
  add_netpol_rows(st, st.progress.completeness, max_netpols, result);
  // Pods with a problem: what was collected with one, and (known only at
  // the end of collection for the pods still in it) what could not be.
  auto& listed = st.progress.report_pods;
  result.pods_total = static_cast<uint32_t>(listed.size());
  for (size_t i = 0; i < listed_count(listed.size(), all_pods); ++i) {
    auto index = listed[i];
    auto& pod = st.progress.pods[index];
    auto names = st.progress.missing_netpols.find(index);
    auto row = pod_row(st, index,
                       names == st.progress.missing_netpols.end()
                         ? nullptr
                         : &names->second);
    row.reported = pod.reported;
    row.missing = pod.missing;
    row.duplicates = pod.duplicates;
    row.unexpected = pod.unexpected;
    row.unknown = unknown_of(pod);
    result.pods.push_back(std::move(row));
  }
  return result;
}

bool has_sampled_report(const coordinator_state& st) {
  return !st.meta.stop_requested && st.progress.samples.view.has_value();
}

completeness_totals sampled_totals(const coordinator_state& st) {
  auto& view = *st.progress.samples.view;
  auto result = view.completeness.totals();
  result.pods_incomplete = st.progress.pods_with_tests - view.pods_complete;
  return result;
}

completeness_report make_sampled_report(const coordinator_state& st,
                                        bool all_pods,
                                        uint32_t max_netpols) {
  auto& view = *st.progress.samples.view;
  completeness_report result;
  result.round = st.meta.round;
  result.current = st.meta.current;
  result.from_samples = true;
  result.oldest_sample_unix_ms = view.oldest_unix_ms;
  result.pods_sampled = view.pods;
  result.totals = sampled_totals(st);
  add_netpol_rows(st, view.completeness, max_netpols, result);
  result.pods_total = static_cast<uint32_t>(view.listed.size());
  for (size_t i = 0; i < listed_count(view.listed.size(), all_pods); ++i) {
    auto& sampled = view.listed[i];
    auto row = pod_row(st, sampled.index, &sampled.missing_netpols);
    row.reported = sampled.reported;
    row.missing = sampled.missing;
    row.duplicates = sampled.duplicates;
    row.unexpected = sampled.unexpected;
    row.unknown = sampled.unknown;
    result.pods.push_back(std::move(row));
  }
  return result;
}

proxy_metrics make_metrics(const coordinator_state& st,
                           caf::actor_clock::time_point now) {
  auto result = st.totals;
  result.status = make_round_status(st);
  result.workers = st.settings.workers;
  result.worker_restarts = st.pool.restarts;
  std::tie(result.delivery_duration, result.collection_duration)
    = phase_durations(st, now);
  result.results_bytes = st.progress.results_bytes;
  result.results_entries = st.progress.results_entries;
  result.has_completeness
    = st.meta.stop_requested && st.progress.catalog.ptr != nullptr;
  if (result.has_completeness)
    result.completeness = completeness_of(st);
  result.sampling = sampling_of(st);
  result.has_sampled_completeness = has_sampled_report(st);
  if (result.has_sampled_completeness)
    result.sampled_completeness = sampled_totals(st);
  result.rounds_superseded = st.lifecycle.rounds_superseded;
  result.initiates_refused = st.lifecycle.initiates_refused;
  return result;
}

void log_completeness(const coordinator_state& st, size_t max_lines) {
  if (st.progress.catalog.ptr == nullptr)
    return;
  auto t = completeness_of(st);
  spdlog::info("Completeness: {}/{} connection tests reported, {} missing in "
               "{} netpols, {} duplicates, {} unexpected, {} unknown (pods "
               "not collected or never delivered)",
               grouped(t.reported), grouped(t.expected), grouped(t.missing),
               t.netpols_missing, grouped(t.duplicates),
               grouped(t.unexpected), grouped(t.unknown));
  auto& accounts = st.progress.completeness.netpols();
  auto* catalog = st.progress.completeness.catalog();
  size_t lines = 0;
  for (auto id : st.progress.completeness.worst_netpols(max_lines)) {
    auto& account = accounts[id];
    if (lines == max_lines || account.missing == 0)
      break;
    ++lines;
    std::string pods;
    for (auto pod : account.sample_pods)
      pods += (pods.empty() ? "" : ", ") + st.progress.pods[pod].ip;
    if (account.pods_missing > account.sample_pods.size())
      pods += ", ...";
    spdlog::warn("Netpol {}: {} of {} connection tests missing; pods "
                 "missing some: {} ({}); {} reported{}",
                 catalog->netpols[id], account.missing, account.expected,
                 account.pods_missing, pods, account.reported,
                 account.reported > 0 ? ", last success "
                                          + account.last.text
                                      : std::string{});
  }
  if (t.netpols_missing > lines)
    spdlog::warn("... and {} more netpols with missing tests: GET /report "
                 "lists them all",
                 t.netpols_missing - lines);
}

} // namespace netpol
