#define CAF_SUITE sampler

#include "coordinator_fixture.hpp"

using namespace netpol;
using namespace netpol::test;
using namespace std::chrono_literals;

namespace {

struct fixture : coordinator_fixture {
  fixture() {
    settings.sample_interval = 1s;
  }
};

} // namespace

FIXTURE_SCOPE(sampler_tests, fixture)

TEST(from delivery to stop each pod is read once every interval) {
  start(2);
  for (auto& ip : ips(2))
    pods->set_results(ip, entries_of(ip, 1));
  initiate(2);
  CHECK_EQUAL(current_phase(), phase::delivered);
  MESSAGE("the first sweep starts as delivery ends, through the sampler's "
          "own workers: the pool stays idle");
  CHECK_EQUAL(results_calls("10.0.0.1"), 1u);
  CHECK_EQUAL(results_calls("10.0.0.2"), 1u);
  CHECK_EQUAL(idle_workers(), 2u);
  auto totals = sampling();
  CHECK_EQUAL(totals.sweeps, 1u);
  CHECK_EQUAL(totals.taken, 2u);
  CHECK_EQUAL(totals.pods_sampled, 2u);
  CHECK_EQUAL(detail("10.0.0.1").sample_entries, 1u);
  MESSAGE("nothing until the interval has passed");
  advance_time(999ms);
  consume_messages();
  CHECK_EQUAL(results_calls("10.0.0.1"), 1u);
  advance_time(1ms);
  consume_messages();
  CHECK_EQUAL(results_calls("10.0.0.1"), 2u);
  CHECK_EQUAL(sampling().sweeps, 2u);
  MESSAGE("/stop ends sampling: only collection asks from then on");
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(current_phase(), phase::collected);
  next_sweep();
  next_sweep();
  CHECK_EQUAL(results_calls("10.0.0.1"), 3u);
  CHECK_EQUAL(results_calls("10.0.0.2"), 3u);
  CHECK_EQUAL(sampling().sweeps, 2u);
}

TEST(without an interval nothing is read before stop) {
  settings.sample_interval = 0s;
  start(2);
  initiate(2);
  advance_time(10s);
  consume_messages();
  CHECK_EQUAL(results_calls("10.0.0.1"), 0u);
  CHECK_EQUAL(sampling().interval.count(), 0);
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(results_calls("10.0.0.1"), 1u);
}

TEST(a pod lost by stop is served its last sample byte for byte) {
  start(2);
  auto lost = std::string{"10.0.0.1"};
  for (auto& ip : ips(2))
    pods->set_results(ip, entries_of(ip, 1));
  initiate(2);
  MESSAGE("its results grow: the later sample replaces the earlier one");
  pods->set_results(lost, entries_of(lost, 2));
  next_sweep();
  CHECK_EQUAL(detail(lost).sample_entries, 2u);
  MESSAGE("then it is gone: collection fails after every attempt");
  pods->script(lost, stage::collection,
               {sim_answer::refused, sim_answer::refused,
                sim_answer::refused});
  ask<round_status>(stop_atom_v);
  advance_time(100ms);
  consume_messages();
  advance_time(200ms);
  consume_messages();
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(count(pod_state::collect_failed), 1u);
  MESSAGE("/results serves the sample; /status says why and counts it");
  CHECK_EQUAL(served_results(lost), entries_of(lost, 2));
  auto pod = detail(lost);
  CHECK(pod.served_sample.find("collection failed") != std::string::npos);
  CHECK_GREATER(pod.sample_taken_unix_ms, 0);
  CHECK_EQUAL(sampling().served, 1u);
  MESSAGE("its test counts as reported, not unknown");
  auto report = ask<completeness_report>(report_atom_v, true, 0u);
  CHECK_EQUAL(report.totals.reported, 2u);
  CHECK_EQUAL(report.totals.unknown, 0u);
}

TEST(a pod whose answer stops extending its sample keeps the sample) {
  start(1);
  auto pod_ip = std::string{"10.0.0.1"};
  pods->set_results(pod_ip, entries_of(pod_ip, 2));
  initiate(1);
  MESSAGE("the pod restarts: it answers [] and the sample stays");
  pods->set_results(pod_ip, "[]\n");
  next_sweep();
  auto pod = detail(pod_ip);
  CHECK_EQUAL(pod.sample_entries, 2u);
  CHECK_GREATER(pod.restart_seen_unix_ms, 0);
  CHECK_EQUAL(sampling().restarted, 1u);
  MESSAGE("its answer at /stop does not extend the sample: the sample is "
          "served");
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(count(pod_state::collected), 1u);
  CHECK_EQUAL(served_results(pod_ip), entries_of(pod_ip, 2));
  CHECK(detail(pod_ip).served_sample.find("does not extend")
        != std::string::npos);
  CHECK_EQUAL(ask<status_report>(status_atom_v, false).problems_total, 1u);
}

TEST(a pod whose answer at stop extends its sample is served the answer) {
  start(1);
  auto pod_ip = std::string{"10.0.0.1"};
  pods->set_results(pod_ip, entries_of(pod_ip, 1));
  initiate(1);
  pods->set_results(pod_ip, entries_of(pod_ip, 3));
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(served_results(pod_ip), entries_of(pod_ip, 3));
  CHECK(detail(pod_ip).served_sample.empty());
  CHECK_EQUAL(sampling().served, 0u);
  CHECK_EQUAL(ask<status_report>(status_atom_v, false).problems_total, 0u);
}

TEST(a failed sample changes nothing and is counted) {
  start(1);
  auto pod_ip = std::string{"10.0.0.1"};
  pods->set_results(pod_ip, entries_of(pod_ip, 1));
  initiate(1);
  pods->script(pod_ip, stage::collection, {sim_answer::http_500});
  next_sweep();
  auto totals = sampling();
  CHECK_EQUAL(totals.failed, 1u);
  CHECK_EQUAL(totals.taken, 1u);
  CHECK_EQUAL(detail(pod_ip).sample_entries, 1u);
  MESSAGE("a body kube-burner could not decode is a failed sample too");
  pods->set_results(pod_ip, "[{\"address\": 1}]");
  next_sweep();
  CHECK_EQUAL(sampling().failed, 2u);
  CHECK_EQUAL(detail(pod_ip).sample_entries, 1u);
}

TEST(a new round stops the sampling of the one before) {
  start(1);
  initiate(1);
  CHECK_EQUAL(results_calls("10.0.0.1"), 1u);
  MESSAGE("a new plan while the job runs: its delivery comes first");
  pods->script("10.0.0.9", stage::delivery, {sim_answer::refused});
  ask<round_status>(initiate_atom_v, make_plan({"10.0.0.9"}));
  CHECK_EQUAL(current_phase(), phase::delivering);
  MESSAGE("once delivered, only the new round's pod is read");
  next_sweep();
  CHECK_EQUAL(current_phase(), phase::delivered);
  CHECK_EQUAL(results_calls("10.0.0.9"), 1u);
  CHECK_EQUAL(results_calls("10.0.0.1"), 1u);
  CHECK_EQUAL(sampling().sweeps, 1u);
}

FIXTURE_SCOPE_END()
