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

  /// A round of one pod, sampling off, whose /check was lost and timed out:
  /// unconfirmed, asked as delivery ends, it took none and its list is sent
  /// again. The pool's worker is spawned first, then the sampler's two: the
  /// second of those, which sends the list again, hangs until its
  /// deadline. The pod's address.
  std::string pod_with_its_list_out_again() {
    settings.sample_interval = 0s;
    start(1);
    auto pod_ip = std::string{"10.0.0.1"};
    pods->answer_status(pod_ip, true);
    pods->script(pod_ip, stage::delivery, {sim_answer::timeout});
    hung_at.insert(2);
    initiate(1);
    return pod_ip;
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
  MESSAGE("/report has nothing to answer from until /stop");
  CHECK_EQUAL(code_of(ask_error<completeness_report>(report_atom_v, true,
                                                     0u)),
              errc::results_not_ready);
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

TEST(during the job report answers from the last sweep of samples) {
  start(3);
  auto grows = std::string{"10.0.0.1"};
  auto late = std::string{"10.0.0.2"};
  auto silent = std::string{"10.0.0.3"};
  pods->set_results(grows, entries_of(grows, 1));
  pods->script(silent, stage::collection,
               std::vector<sim_answer>(6, sim_answer::refused));
  initiate(3);
  MESSAGE("the first sweep: one test reported, one not yet (its pod took "
          "its list), one unknown (its pod never answered)");
  auto report = ask<completeness_report>(report_atom_v, true, 0u);
  CHECK(report.from_samples);
  CHECK(!report.collection_done);
  CHECK_EQUAL(report.pods_sampled, 2u);
  CHECK_GREATER(report.oldest_sample_unix_ms, 0);
  CHECK_EQUAL(report.totals.expected, 3u);
  CHECK_EQUAL(report.totals.reported, 1u);
  CHECK_EQUAL(report.totals.missing, 1u);
  CHECK_EQUAL(report.totals.unknown, 1u);
  CHECK_EQUAL(report.totals.pods_incomplete, 2u);
  REQUIRE_EQUAL(report.netpols.size(), 3u);
  CHECK_EQUAL(report.netpols[0].name, "np-" + late);
  CHECK_EQUAL(report.netpols[0].sample_pods,
              std::vector<std::string>{late});
  REQUIRE_EQUAL(report.pods.size(), 1u);
  CHECK_EQUAL(report.pods[0].ip, late);
  CHECK_EQUAL(report.pods[0].missing_netpols,
              std::vector<std::string>{"np-" + late});
  REQUIRE_EQUAL(report.curve.succeeded.size(), 1u);
  CHECK_EQUAL(report.curve.succeeded.back(), 1u);
  CHECK_EQUAL(ask<proxy_metrics>(metrics_atom_v).sampled_completeness.reported,
              1u);
  MESSAGE("the late pod reports, the first one restarts (answers []): its "
          "kept sample still counts");
  pods->set_results(late, entries_of(late, 1));
  pods->set_results(grows, "[]\n");
  next_sweep();
  report = ask<completeness_report>(report_atom_v, true, 0u);
  CHECK_EQUAL(report.totals.reported, 2u);
  CHECK_EQUAL(report.totals.missing, 0u);
  CHECK_EQUAL(report.totals.unknown, 1u);
  CHECK_EQUAL(report.pods_total, 0u);
  MESSAGE("a pod that no longer answers counts by its last sample too");
  pods->script(late, stage::collection, {sim_answer::refused});
  next_sweep();
  CHECK_EQUAL(ask<completeness_report>(report_atom_v, true, 0u)
                .totals.reported,
              2u);
  MESSAGE("from /stop on, /report is collection's again");
  ask<round_status>(stop_atom_v);
  report = ask<completeness_report>(report_atom_v, true, 0u);
  CHECK(!report.from_samples);
  CHECK(!ask<proxy_metrics>(metrics_atom_v).has_sampled_completeness);
}

TEST(unconfirmed pods are asked whether they took their list) {
  settings.sample_interval = 0s; // asking needs no sampling
  start(3);
  auto holds = std::string{"10.0.0.1"};
  auto lost_check = std::string{"10.0.0.2"};
  auto real = std::string{"10.0.0.3"};
  pods->answer_status(holds);
  pods->answer_status(lost_check, true);
  for (auto& ip : ips(3))
    pods->script(ip, stage::delivery, {sim_answer::timeout});
  MESSAGE("every /check is written and never answered: all unconfirmed; "
          "as delivery ends each is asked (GET /status)");
  initiate(3);
  CHECK_EQUAL(current_phase(), phase::delivered);
  CHECK_EQUAL(pods->status_calls_to(holds), 1u);
  CHECK_EQUAL(pods->status_calls_to(real), 1u);
  MESSAGE("the pod that holds its list is delivered, /check once");
  CHECK_EQUAL(detail(holds).state, pod_state::delivered);
  CHECK_EQUAL(pods->calls_to(holds, stage::delivery), 1u);
  MESSAGE("the pod whose /check was lost is sent it again, and delivered");
  CHECK_EQUAL(detail(lost_check).state, pod_state::delivered);
  CHECK_EQUAL(pods->calls_to(lost_check, stage::delivery), 2u);
  CHECK_EQUAL(pods->list_taken(lost_check), connections_of(lost_check));
  MESSAGE("the real client cannot be asked: unconfirmed, /check once");
  CHECK_EQUAL(detail(real).state, pod_state::unconfirmed);
  CHECK_EQUAL(pods->calls_to(real, stage::delivery), 1u);
  auto status = poll();
  CHECK_EQUAL(status.delivered, 2u);
  CHECK_EQUAL(status.unconfirmed, 1u);
  auto asked = sampling();
  CHECK_EQUAL(asked.confirm_asked, 3u);
  CHECK_EQUAL(asked.confirm_held, 1u);
  CHECK_EQUAL(asked.confirm_sent, 1u);
  CHECK_EQUAL(asked.confirm_cannot, 1u);
  MESSAGE("the two delivered are no longer problem pods");
  CHECK_EQUAL(ask<status_report>(status_atom_v, false).problems_total, 1u);
  MESSAGE("nobody is asked again");
  advance_time(1min);
  consume_messages();
  CHECK_EQUAL(pods->status_calls_to(real), 1u);
  CHECK_EQUAL(pods->status_calls_to(holds), 1u);
}

TEST(an unconfirmed pod that refuses its list when sent again fails) {
  settings.sample_interval = 0s;
  start(1);
  auto pod_ip = std::string{"10.0.0.1"};
  pods->answer_status(pod_ip, true);
  pods->script(pod_ip, stage::delivery,
               {sim_answer::timeout, sim_answer::http_400});
  initiate(1);
  MESSAGE("it took no list; sent again, it answers 400: failed, as in "
          "delivery, and not asked again");
  CHECK_EQUAL(detail(pod_ip).state, pod_state::failed);
  CHECK_EQUAL(pods->calls_to(pod_ip, stage::delivery), 2u);
  CHECK_EQUAL(sampling().confirm_refused, 1u);
  CHECK_EQUAL(poll().delivery_failed, 1u);
  advance_time(1min);
  consume_messages();
  CHECK_EQUAL(pods->status_calls_to(pod_ip), 1u);
}

TEST(an unconfirmed pod that does not answer is asked again until stop) {
  settings.sample_interval = 0s;
  start(2);
  auto pod_ip = std::string{"10.0.0.1"};
  auto never = std::string{"10.0.0.2"};
  for (auto& ip : ips(2)) {
    pods->answer_status(ip);
    pods->script(ip, stage::delivery, {sim_answer::timeout});
  }
  pods->script_status(pod_ip, {sim_answer::refused, sim_answer::refused});
  pods->script_status(never, std::vector<sim_answer>(20, sim_answer::refused));
  initiate(2);
  CHECK_EQUAL(pods->status_calls_to(pod_ip), 1u);
  CHECK_EQUAL(sampling().confirm_failed, 2u);
  MESSAGE("asked again 10 s later, and again");
  advance_time(10s);
  consume_messages();
  CHECK_EQUAL(pods->status_calls_to(pod_ip), 2u);
  advance_time(10s);
  consume_messages();
  CHECK_EQUAL(pods->status_calls_to(pod_ip), 3u);
  CHECK_EQUAL(detail(pod_ip).state, pod_state::delivered);
  CHECK_EQUAL(pods->calls_to(pod_ip, stage::delivery), 1u);
  MESSAGE("after /stop nobody is asked, unconfirmed or not");
  CHECK_EQUAL(detail(never).state, pod_state::unconfirmed);
  CHECK_EQUAL(pods->status_calls_to(never), 3u);
  ask<round_status>(stop_atom_v);
  advance_time(30s);
  consume_messages();
  CHECK_EQUAL(pods->status_calls_to(never), 3u);
  CHECK_EQUAL(pods->calls_to(never, stage::delivery), 1u);
  MESSAGE("each pod counted once among those asked");
  CHECK_EQUAL(sampling().confirm_asked, 2u);
}

TEST(a list sent again that may have been lost is asked for again) {
  settings.sample_interval = 0s;
  start(1);
  auto pod_ip = std::string{"10.0.0.1"};
  pods->answer_status(pod_ip, true);
  pods->script(pod_ip, stage::delivery,
               {sim_answer::timeout, sim_answer::timeout});
  initiate(1);
  MESSAGE("its first /check was lost; sent again, it takes the list but "
          "the answer never comes: still unconfirmed, asked again");
  CHECK_EQUAL(pods->calls_to(pod_ip, stage::delivery), 2u);
  CHECK_EQUAL(detail(pod_ip).state, pod_state::unconfirmed);
  CHECK_EQUAL(sampling().confirm_failed, 1u);
  advance_time(10s);
  consume_messages();
  MESSAGE("asked again, it holds its list: delivered, with no third /check");
  CHECK_EQUAL(pods->status_calls_to(pod_ip), 2u);
  CHECK_EQUAL(detail(pod_ip).state, pod_state::delivered);
  CHECK_EQUAL(pods->calls_to(pod_ip, stage::delivery), 2u);
  CHECK_EQUAL(sampling().confirm_held, 1u);
}

TEST(collection after stop waits for a list sent again) {
  auto pod_ip = pod_with_its_list_out_again();
  CHECK_EQUAL(pods->status_calls_to(pod_ip), 1u);
  CHECK_EQUAL(*swallowed, 1u);
  CHECK_EQUAL(detail(pod_ip).state, pod_state::unconfirmed);
  MESSAGE("/stop while the list is out again: the pod's /results waits");
  ask<round_status>(stop_atom_v);
  CHECK(deferred(pod_ip));
  CHECK_EQUAL(results_calls(pod_ip), 0u);
  CHECK_EQUAL(current_phase(), phase::collecting);
  MESSAGE("once the call ends (here at its deadline, never having reached "
          "the pod) the pod is collected; it stays unconfirmed");
  advance_time(settings.worker_deadline());
  consume_messages();
  CHECK(!deferred(pod_ip));
  CHECK_EQUAL(results_calls(pod_ip), 1u);
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(detail(pod_ip).delivery_outcome, pod_state::unconfirmed);
}

TEST(a check of a new round waits for a list sent again to the same pod) {
  auto pod_ip = pod_with_its_list_out_again();
  CHECK_EQUAL(*swallowed, 1u);
  MESSAGE("a new plan with the same pod while its list is out again: the "
          "other pod gets its /check, this one waits");
  ask<round_status>(initiate_atom_v, make_plan({pod_ip, "10.0.0.7"}));
  CHECK_EQUAL(round_number(), 2u);
  CHECK(deferred(pod_ip));
  CHECK_EQUAL(pods->calls_to("10.0.0.7", stage::delivery), 1u);
  CHECK_EQUAL(pods->calls_to(pod_ip, stage::delivery), 1u);
  MESSAGE("once the old round's call ends, the new round's /check goes");
  advance_time(settings.worker_deadline());
  consume_messages();
  CHECK_EQUAL(pods->calls_to(pod_ip, stage::delivery), 2u);
  CHECK_EQUAL(current_phase(), phase::delivered);
  CHECK_EQUAL(stale_calls(), 0u);
}

TEST(a new round after stop drops the pods waiting for a list sent again) {
  auto pod_ip = pod_with_its_list_out_again();
  ask<round_status>(stop_atom_v);
  CHECK(deferred(pod_ip));
  MESSAGE("a new round of other pods while the list is still out: its "
          "first pod has the index the waiting one had");
  ask<round_status>(initiate_atom_v, make_plan({"10.0.0.7", "10.0.0.8"}));
  CHECK(!deferred(pod_ip));
  CHECK_EQUAL(current_phase(), phase::delivered);
  MESSAGE("the list's call ends: nothing of the old round is called, and "
          "the new round's pods got one /check each, no /results");
  advance_time(settings.worker_deadline());
  consume_messages();
  CHECK_EQUAL(pods->calls_to("10.0.0.7", stage::delivery), 1u);
  CHECK_EQUAL(results_calls("10.0.0.7"), 0u);
  CHECK_EQUAL(results_calls(pod_ip), 0u);
  CHECK_EQUAL(current_phase(), phase::delivered);
  CHECK_EQUAL(count(pod_state::delivered), 2u);
}

TEST(without sampling a list sent again that outlasts the retry is asked again) {
  REQUIRE_GREATER(settings.worker_deadline(), 10s);
  auto pod_ip = pod_with_its_list_out_again();
  CHECK_EQUAL(*swallowed, 1u);
  MESSAGE("the list sent again hangs past the 10 s retry, then ends at the "
          "worker's deadline: the pod is asked again");
  for (int i = 0; i < 3; ++i) {
    advance_time(10s);
    consume_messages();
  }
  CHECK_EQUAL(pods->status_calls_to(pod_ip), 2u);
  MESSAGE("it still took none (the hung call never reached it): sent again "
          "by a fresh worker, and delivered");
  CHECK_EQUAL(detail(pod_ip).state, pod_state::delivered);
  CHECK_EQUAL(pods->calls_to(pod_ip, stage::delivery), 2u);
}

TEST(a sampler that dies frees the addresses of the lists it was sending) {
  auto pod_ip = pod_with_its_list_out_again();
  REQUIRE(sampler());
  MESSAGE("the sampler dies with the list out again");
  caf::anon_send_exit(sampler(), caf::exit_reason::kill);
  consume_messages();
  CHECK(!sampler());
  MESSAGE("/stop: the pod is collected at once, not held for ever");
  ask<round_status>(stop_atom_v);
  CHECK(!deferred(pod_ip));
  CHECK_EQUAL(results_calls(pod_ip), 1u);
  CHECK_EQUAL(current_phase(), phase::collected);
  MESSAGE("its two workers outlived it (killed, it could not stop them)");
  REQUIRE_EQUAL(spawned.size(), 3u);
  caf::anon_send_exit(spawned[1], caf::exit_reason::kill);
  caf::anon_send_exit(spawned[2], caf::exit_reason::kill);
}

FIXTURE_SCOPE_END()
