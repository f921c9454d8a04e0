#define CAF_SUITE round_store

#include "coordinator_fixture.hpp"

#include "actors/round_store.hpp"
#include "actors/sqlite_round_store.hpp"
#include "actors/store_codec.hpp"

#include <cstdlib>
#include <filesystem>

using namespace netpol;
using namespace netpol::test;
using namespace std::chrono_literals;

namespace {

struct fixture : coordinator_fixture {
  fixture() {
    store = std::make_shared<memory_round_store>();
  }

  /// A plan whose pods test each other, as /initiate gives: lists are
  /// rebuilt from their tests after a restart.
  round_plan plan_of(size_t count) {
    return make_plan(ips(count));
  }

  /// Two pods delivered but the first, refused once and waiting out a
  /// 200 ms backoff.
  void first_pod_in_backoff() {
    settings.backoff_base = 200ms;
    settings.backoff_cap = 200ms;
    start(2);
    pods->script("10.0.0.1", stage::delivery, {sim_answer::refused});
    initiate(2);
    CHECK(pod("10.0.0.1").awaiting_retry);
    MESSAGE("a /check's end is committed at once, even with no call to "
            "start");
    CHECK(!commit_due());
    CHECK_EQUAL(store->committed_pod(0).delivery_attempts, 1u);
    CHECK(store->committed_in_flight().empty());
  }
};

/// A directory of its own for a real store, removed at the end.
struct temp_dir {
  std::string path;
  temp_dir() {
    auto pattern
      = (std::filesystem::temp_directory_path() / "round_store.XXXXXX")
          .string();
    if (mkdtemp(pattern.data()) != nullptr)
      path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    if (!path.empty())
      std::filesystem::remove_all(path, ignored);
  }
};

/// The pods of `plan` as the coordinator starts them, delivered.
std::vector<pod_record> delivered_pods(const round_plan& plan) {
  std::vector<pod_record> result;
  for (auto& planned : plan.pods) {
    pod_record pod;
    pod.ip = planned.ip;
    pod.connections = planned.connections;
    pod.connection_count = planned.connection_count;
    pod.expected = planned.expected;
    pod.tests = planned.tests;
    pod.canonical = planned.canonical;
    pod.state = pod_state::delivered;
    pod.delivery_outcome = pod_state::delivered;
    result.push_back(std::move(pod));
  }
  return result;
}

} // namespace

FIXTURE_SCOPE(round_store_tests, fixture)

TEST(every call is committed as started before it goes out) {
  start(2);
  self->send(coord, initiate_atom_v, plan_of(3));
  expect((initiate_atom, round_plan), from(self).to(coord));
  MESSAGE("the /check jobs wait in the workers' mailboxes: already durable");
  auto in_flight = store->committed_in_flight();
  REQUIRE_EQUAL(in_flight.size(), 2u);
  CHECK_EQUAL(in_flight[0].second, stage::delivery);
  CHECK(pods->calls().empty());
  consume_messages();
  MESSAGE("the last /check calls' ends are committed as they end, with no "
          "call to start: never left to a grouped commit");
  CHECK(busy_workers() == 0);
  CHECK(!commit_due());
  CHECK(store->committed_in_flight().empty());
}

TEST(a restart resumes the round with every pod as it was) {
  start(2);
  pods->script("10.0.0.2", stage::delivery, {sim_answer::http_400});
  pods->script("10.0.0.3", stage::delivery, {sim_answer::timeout});
  pods->set_results("10.0.0.1", results_of("10.0.0.1"));
  initiate(4);
  CHECK_EQUAL(current_phase(), phase::delivered);
  auto before = ask<status_report>(status_atom_v, true);
  crash();
  MESSAGE("a new coordinator on the same store");
  start(2);
  CHECK_EQUAL(round_number(), 1u);
  CHECK_EQUAL(current_phase(), phase::delivered);
  auto after = ask<status_report>(status_atom_v, true);
  CHECK_EQUAL(after.status.delivered, before.status.delivered);
  CHECK_EQUAL(after.status.unconfirmed, 1u);
  CHECK_EQUAL(after.status.delivery_failed, 1u);
  REQUIRE_EQUAL(after.pods.size(), before.pods.size());
  for (size_t i = 0; i < after.pods.size(); ++i) {
    CHECK_EQUAL(after.pods[i].ip, before.pods[i].ip);
    CHECK_EQUAL(after.pods[i].state, before.pods[i].state);
    CHECK_EQUAL(after.pods[i].delivery_attempts,
                before.pods[i].delivery_attempts);
    CHECK_EQUAL(after.pods[i].delivery_error, before.pods[i].delivery_error);
  }
  MESSAGE("nobody is sent /check again; the round goes on to collection");
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(current_phase(), phase::collected);
  for (auto& ip : ips(4))
    CHECK_EQUAL(pods->calls_to(ip, stage::delivery), 1u);
  auto results = ask<results_snapshot>(results_atom_v);
  CHECK_EQUAL(results.round, 1u);
}

TEST(a check in flight when the proxy stops leaves its pod unconfirmed) {
  start(2);
  self->send(coord, initiate_atom_v, plan_of(3));
  expect((initiate_atom, round_plan), from(self).to(coord));
  MESSAGE("the proxy dies before the workers made their calls");
  crash();
  start(2);
  MESSAGE("the two calls may have reached their pods: never again");
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::unconfirmed);
  CHECK_EQUAL(pod("10.0.0.2").state, pod_state::unconfirmed);
  CHECK_EQUAL(pod("10.0.0.1").delivery_error,
              "the proxy stopped while its /check was out");
  MESSAGE("the pod not yet tried is delivered now, its list rebuilt from "
          "its tests; the two others got the one call made before the stop");
  CHECK_EQUAL(pod("10.0.0.3").state, pod_state::delivered);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 1u);
  CHECK_EQUAL(pods->calls_to("10.0.0.2", stage::delivery), 1u);
  auto calls = pods->calls();
  REQUIRE_EQUAL(calls.size(), 3u);
  CHECK_EQUAL(calls[2].ip, "10.0.0.3");
  CHECK_EQUAL(calls[2].payload, connections_of("10.0.0.3"));
  CHECK_EQUAL(current_phase(), phase::delivered);
}

TEST(an unconfirmed pod is asked after a restart with the list it was sent) {
  settings.backoff_base = 200ms;
  settings.backoff_cap = 200ms;
  start(3);
  MESSAGE("lists not rebuilt from tests (make_plan's are not canonical): "
          "the store keeps them. Two /check written and not answered (the "
          "second one lost), the third pod refused and waiting to retry");
  auto holds = std::string{"10.0.0.1"};
  auto lost = std::string{"10.0.0.2"};
  pods->answer_status(holds);
  pods->answer_status(lost, true);
  pods->script(holds, stage::delivery, {sim_answer::timeout});
  pods->script(lost, stage::delivery, {sim_answer::timeout});
  pods->script("10.0.0.3", stage::delivery, {sim_answer::refused});
  initiate(3);
  CHECK_EQUAL(store->committed_pod(0).state, pod_state::unconfirmed);
  CHECK_EQUAL(pods->status_calls_to(holds), 0u);
  MESSAGE("the proxy dies before delivery ends, so before anyone is asked");
  crash();
  start(3);
  advance_time(200ms);
  consume_messages();
  CHECK_EQUAL(current_phase(), phase::delivered);
  MESSAGE("both unconfirmed pods are asked with the list they were sent");
  CHECK_EQUAL(pods->status_calls_to(holds), 1u);
  CHECK_EQUAL(pods->status_calls_to(lost), 1u);
  MESSAGE("one holds it: delivered, /check once");
  CHECK_EQUAL(pod(holds).state, pod_state::delivered);
  CHECK_EQUAL(pods->calls_to(holds, stage::delivery), 1u);
  MESSAGE("one took none: sent that very list again, and delivered");
  CHECK_EQUAL(pod(lost).state, pod_state::delivered);
  CHECK_EQUAL(pods->calls_to(lost, stage::delivery), 2u);
  CHECK_EQUAL(pods->list_taken(lost), connections_of(lost));
}

TEST(a pod waiting for a retry waits out the rest of its backoff) {
  first_pod_in_backoff();
  crash();
  start(2);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::queued);
  CHECK(pod("10.0.0.1").awaiting_retry);
  CHECK_EQUAL(poll().in_backoff, 1u);
  MESSAGE("not before most of the 200 ms backoff (wall time passed since)");
  advance_time(150ms);
  consume_messages();
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 1u);
  advance_time(60ms);
  consume_messages();
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 2u);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::delivered);
  CHECK_EQUAL(pod("10.0.0.1").delivery_attempts, 2u);
}

TEST(a retry in flight comes back from the row of its call) {
  first_pod_in_backoff();
  MESSAGE("the backoff ends: the second attempt is committed and goes out");
  advance_time(200ms);
  expect((retry_atom, uint64_t, uint32_t), from(coord).to(coord));
  MESSAGE("the pod's row was not written for it: the call's row says it");
  CHECK_EQUAL(store->committed_pod(0).state, pod_state::queued);
  CHECK_EQUAL(store->committed_pod(0).delivery_attempts, 1u);
  REQUIRE_EQUAL(store->committed_in_flight().size(), 1u);
  crash();
  start(2);
  MESSAGE("restored as in that attempt: unconfirmed, never sent again");
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::unconfirmed);
  CHECK_EQUAL(pod("10.0.0.1").delivery_attempts, 2u);
  CHECK(!pod("10.0.0.1").awaiting_retry);
  CHECK_EQUAL(poll().in_backoff, 0u);
  consume_messages();
  advance_time(1s);
  consume_messages();
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 2u);
}

TEST(collected results and completeness come back byte for byte) {
  start(2);
  pods->set_results("10.0.0.1", results_of("10.0.0.1"));
  pods->set_results("10.0.0.2", "[]");
  initiate(2);
  ask<round_status>(stop_atom_v);
  auto results = ask<results_snapshot>(results_atom_v);
  auto report = ask<completeness_report>(report_atom_v, true, uint32_t{0});
  crash();
  start(2);
  CHECK_EQUAL(current_phase(), phase::collected);
  auto again = ask<results_snapshot>(results_atom_v);
  REQUIRE_EQUAL(again.pods.size(), results.pods.size());
  for (size_t i = 0; i < again.pods.size(); ++i)
    CHECK_EQUAL(again.pods[i].body.view(), results.pods[i].body.view());
  auto report_again = ask<completeness_report>(report_atom_v, true,
                                               uint32_t{0});
  CHECK_EQUAL(report_again.totals.reported, report.totals.reported);
  CHECK_EQUAL(report_again.totals.missing, 1u);
  CHECK_EQUAL(report_again.pods_total, report.pods_total);
  MESSAGE("what each pod reported is matched again from its results: every "
          "netpol, first and last success, and the enforcement curve");
  CHECK_EQUAL(caf::deep_to_string(report_again), caf::deep_to_string(report));
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::collection), 1u);
}

TEST(answers that arrive together share one commit) {
  start(3);
  for (auto& ip : ips(3))
    pods->set_results(ip, results_of(ip));
  initiate(3);
  MESSAGE("three /results calls out; the workers answer before the "
          "coordinator runs again");
  self->send(coord, stop_atom_v);
  expect((stop_atom), from(self).to(coord));
  for (auto& worker : spawned)
    expect((collect_atom, pod_job), from(coord).to(worker));
  auto commits = store->commits();
  MESSAGE("the first answer sees two more waiting: the commit waits for them");
  expect((pod_outcome), from(spawned[0]).to(coord));
  CHECK_EQUAL(store->commits(), commits);
  expect((pod_outcome), from(spawned[1]).to(coord));
  expect((pod_outcome), from(spawned[2]).to(coord));
  CHECK_EQUAL(store->commits(), commits);
  expect((dispatch_atom), from(coord).to(coord));
  CHECK_EQUAL(current_phase(), phase::collected);
  MESSAGE("no /check to go out: the commit waits for more answers, up to "
          "the grouped-commit window");
  CHECK_EQUAL(store->commits(), commits);
  advance_time(grouped_commit_window);
  expect((commit_atom), from(coord).to(coord));
  CHECK_EQUAL(store->commits(), commits + 1);
}

TEST(an answer that shows the round commits what waits first) {
  start(2);
  for (auto& ip : ips(2))
    pods->set_results(ip, results_of(ip));
  initiate(2);
  ask<round_status>(stop_atom_v);
  MESSAGE("both pods collected, their commit not due yet");
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK(commit_due());
  auto commits = store->commits();
  MESSAGE("a /checkStopStatus poll sees the round only once it is "
          "committed: a restart never goes back on an answer");
  CHECK(poll().collection_done());
  CHECK_EQUAL(store->commits(), commits + 1);
  CHECK(!commit_due());
  crash();
  start(2);
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::collection), 1u);
  MESSAGE("the commit the window had scheduled finds nothing left to do");
  advance_time(grouped_commit_window);
  consume_messages();
  CHECK_EQUAL(store->commits(), commits + 1 + 1); // + the restart's own
}

TEST(results collected but not committed at a crash are asked again) {
  start(2);
  for (auto& ip : ips(2))
    pods->set_results(ip, results_of(ip));
  initiate(2);
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(current_phase(), phase::collected);
  MESSAGE("killed within the grouped-commit window: nobody was told");
  crash();
  start(2);
  MESSAGE("the pods are collected again (GET /results is idempotent), and "
          "/results is what it would have been");
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::collection), 2u);
  MESSAGE("the /stop committed the first calls' starts: both count");
  CHECK_EQUAL(pod("10.0.0.1").collection_attempts, 2u);
  auto results = ask<results_snapshot>(results_atom_v);
  REQUIRE_EQUAL(results.pods.size(), 2u);
  CHECK_EQUAL(results.pods[0].body.view(), results_of("10.0.0.1"));
}

TEST(a results call in flight is made again after the restart) {
  start(2);
  pods->set_results("10.0.0.1", results_of("10.0.0.1"));
  initiate(2);
  self->send(coord, stop_atom_v);
  expect((stop_atom), from(self).to(coord));
  MESSAGE("the old workers made their calls, but nothing was committed "
          "after the calls went out");
  crash();
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::collection), 1u);
  start(2);
  MESSAGE("/results is idempotent: asked again, and the round completes");
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::collected);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::collection), 2u);
  auto results = ask<results_snapshot>(results_atom_v);
  REQUIRE_EQUAL(results.pods.size(), 2u);
  CHECK_EQUAL(results.pods[0].body.view(), results_of("10.0.0.1"));
}

TEST(results blobs are zstd frames behind their size) {
  auto body = results_of("10.0.0.1");
  auto blob = compress_blob(body);
  REQUIRE(blob.size() > 12u);
  MESSAGE("the size in front, then a zstd frame");
  CHECK_EQUAL(blob.view().substr(8, 4), std::string_view("\x28\xb5\x2f\xfd", 4));
  std::string back;
  CHECK(decompress_blob(blob.view(), back));
  CHECK_EQUAL(back, body);
  MESSAGE("a blob whose frame is not zstd (a zlib header here) is refused");
  std::string other{blob.view().substr(0, 8)};
  other += "\x78\x01";
  other += body;
  CHECK(!decompress_blob(other, back));
  MESSAGE("damaged or cut blobs are refused (the pod is asked again)");
  std::string damaged{blob.view()};
  damaged[damaged.size() / 2] ^= 0x55;
  CHECK(!decompress_blob(damaged, back));
  CHECK(!decompress_blob(blob.view().substr(0, blob.size() - 5), back));
  CHECK(!decompress_blob(blob.view().substr(0, 6), back));
}

TEST(superseded rounds and refusals outlive a restart) {
  start(2);
  initiate(2);
  ask<round_status>(initiate_atom_v, make_plan({"10.0.0.7"}));
  self->send(coord, refused_atom_v, uint16_t{400}, std::string{"bad key"});
  consume_messages();
  crash();
  start(2);
  auto report = ask<status_report>(status_atom_v, false);
  CHECK_EQUAL(report.superseded.size(), 2u);
  CHECK_EQUAL(poll().refusal, "bad key");
  CHECK_EQUAL(round_number(), 2u);
  MESSAGE("a new round after the restart works");
  CHECK_EQUAL(initiate(1).round, 3u);
  CHECK_EQUAL(poll().refusal, "");
}

TEST(metrics counters go on from the stored round after a restart) {
  start(2);
  pods->script("10.0.0.1", stage::delivery, {sim_answer::refused});
  pods->script("10.0.0.2", stage::delivery, {sim_answer::http_500});
  pods->set_results("10.0.0.1", results_of("10.0.0.1"));
  pods->set_results("10.0.0.2", results_of("10.0.0.2"));
  initiate(3);
  advance_time(100ms);
  consume_messages();
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(current_phase(), phase::collected);
  self->send(coord, refused_atom_v, uint16_t{413}, std::string{"too big"});
  consume_messages();
  auto before = ask<proxy_metrics>(metrics_atom_v);
  MESSAGE("5 /check (2 failed, 2 of them retries), 3 /results");
  CHECK_EQUAL(before.calls_of(stage::delivery, call_status::ok), 3u);
  CHECK_EQUAL(before.calls_of(stage::delivery, call_status::refused), 1u);
  CHECK_EQUAL(before.calls_of(stage::delivery, call_status::http_error), 1u);
  CHECK_EQUAL(before.calls_of(stage::collection, call_status::ok), 3u);
  CHECK_EQUAL(before.retries[static_cast<size_t>(stage::delivery)], 2u);
  crash();
  start(2);
  auto after = ask<proxy_metrics>(metrics_atom_v);
  MESSAGE("the restarted proxy counts the same");
  CHECK_EQUAL(after.calls, before.calls);
  CHECK_EQUAL(after.retries, before.retries);
  CHECK_EQUAL(after.latency_buckets, before.latency_buckets);
  CHECK_EQUAL(after.latency_sum, before.latency_sum);
  CHECK_EQUAL(after.rounds, 1u);
  CHECK_EQUAL(after.rounds_superseded, before.rounds_superseded);
  CHECK_EQUAL(after.initiates_refused, 1u);
  MESSAGE("and goes on counting from there");
  initiate(1);
  auto next = ask<proxy_metrics>(metrics_atom_v);
  CHECK_EQUAL(next.calls_of(stage::delivery, call_status::ok), 4u);
  CHECK_EQUAL(next.rounds, 2u);
}

TEST(an early stop with checks in flight collects those pods after a restart) {
  start(2);
  self->send(coord, initiate_atom_v, plan_of(3));
  expect((initiate_atom, round_plan), from(self).to(coord));
  MESSAGE("/stop while two /check calls are out and one pod waits");
  self->send(coord, stop_atom_v);
  expect((stop_atom), from(self).to(coord));
  crash();
  start(2);
  MESSAGE("the restart honours the /stop: every pod is collected");
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(pod("10.0.0.1").delivery_outcome, pod_state::unconfirmed);
  CHECK_EQUAL(pod("10.0.0.3").delivery_outcome, pod_state::failed);
  CHECK_EQUAL(pod("10.0.0.3").delivery_error, "round stopped before delivery");
  for (auto& ip : ips(3))
    CHECK_EQUAL(pod(ip).state, pod_state::collected);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 1u);
  CHECK_EQUAL(pods->calls_to("10.0.0.3", stage::delivery), 0u);
  MESSAGE("unconfirmed pods that report nothing may never have had their "
          "list: their tests are unknown, not missing");
  auto report = ask<completeness_report>(report_atom_v, true, uint32_t{0});
  CHECK_EQUAL(report.totals.missing, 0u);
  CHECK_EQUAL(report.totals.unknown, 3u);
}

TEST(a restart does not count the calls an earlier restart cut off) {
  start(2);
  self->send(coord, initiate_atom_v, plan_of(3));
  expect((initiate_atom, round_plan), from(self).to(coord));
  crash();
  start(2);
  CHECK_EQUAL(current_phase(), phase::delivered);
  MESSAGE("the cut calls were ended in the store when the round resumed");
  CHECK(store->committed_in_flight().empty());
}

TEST(a clean stop sends a check it cut off before it went out after the restart) {
  start(2);
  pods->script("10.0.0.1", stage::delivery, {sim_answer::cancelled});
  pods->script("10.0.0.2", stage::delivery, {sim_answer::cancelled_sent});
  self->send(coord, initiate_atom_v, plan_of(3));
  expect((initiate_atom, round_plan), from(self).to(coord));
  MESSAGE("SIGTERM: drain, then the calls in flight are cancelled");
  auto drained = self->request(coord, caf::infinite, drain_atom_v);
  consume_messages();
  drained.receive([](uint32_t ended) { CHECK_EQUAL(ended, 2u); },
                  [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  MESSAGE("no call started while draining: the third pod was not tried");
  CHECK_EQUAL(pods->calls_to("10.0.0.3", stage::delivery), 0u);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::queued);
  CHECK_EQUAL(pod("10.0.0.1").delivery_attempts, 0u);
  CHECK_EQUAL(pod("10.0.0.2").state, pod_state::unconfirmed);
  crash();
  start(2);
  MESSAGE("the pod never reached gets its list; the one that may hold it "
          "does not");
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::delivered);
  CHECK_EQUAL(pod("10.0.0.1").delivery_attempts, 1u);
  CHECK_EQUAL(pods->calls_to("10.0.0.2", stage::delivery), 1u);
  CHECK_EQUAL(pod("10.0.0.2").state, pod_state::unconfirmed);
  CHECK_EQUAL(pod("10.0.0.3").state, pod_state::delivered);
  CHECK_EQUAL(current_phase(), phase::delivered);
}

TEST(samples taken during the job are written as they change and survive a restart) {
  settings.sample_interval = 1s;
  start(2);
  for (auto& ip : ips(3))
    pods->set_results(ip, entries_of(ip, 1));
  initiate(3);
  MESSAGE("the first sweep: one write a pod, committed within the "
          "grouped-commit window");
  CHECK_EQUAL(store->sample_writes(), 3u);
  advance_time(grouped_commit_window);
  consume_messages();
  CHECK_EQUAL(store->committed_samples(), 3u);
  MESSAGE("a sweep whose answers did not change writes nothing");
  next_sweep();
  CHECK_EQUAL(store->sample_writes(), 3u);
  MESSAGE("one pod's results grow, another loses them: both written");
  pods->set_results("10.0.0.1", entries_of("10.0.0.1", 2));
  pods->set_results("10.0.0.3", "[]\n");
  next_sweep();
  CHECK_EQUAL(store->sample_writes(), 5u);
  MESSAGE("the lost pod's later answers are not written again");
  next_sweep();
  CHECK_EQUAL(store->sample_writes(), 5u);
  auto grown = detail("10.0.0.1"); // the answer commits what waits
  auto lost = detail("10.0.0.3");
  crash();
  MESSAGE("the restarted proxy's first sweep gets no answer: what it has is "
          "what the store kept");
  for (auto& ip : ips(3))
    pods->script(ip, stage::collection, {sim_answer::refused});
  auto calls = results_calls("10.0.0.1");
  start(2);
  CHECK_EQUAL(current_phase(), phase::delivered);
  CHECK_EQUAL(sampling().failed, 3u);
  MESSAGE("each pod has its sample back, with its times");
  CHECK_EQUAL(sampling().pods_sampled, 3u);
  CHECK_EQUAL(detail("10.0.0.1").sample_entries, 2u);
  // When the entries were last written: a later sweep that read the same
  // entries moved the time in memory only (a sweep that changes nothing
  // writes nothing).
  auto restored = detail("10.0.0.1").sample_taken_unix_ms;
  CHECK_GREATER(restored, 0);
  CHECK_LESS_OR_EQUAL(restored, grown.sample_taken_unix_ms);
  CHECK_EQUAL(detail("10.0.0.3").sample_entries, 1u);
  CHECK_EQUAL(detail("10.0.0.3").restart_seen_unix_ms,
              lost.restart_seen_unix_ms);
  CHECK_EQUAL(sampling().restarted, 1u);
  MESSAGE("and sampling goes on from them");
  CHECK_EQUAL(results_calls("10.0.0.1"), calls + 1);
  pods->set_results("10.0.0.1", entries_of("10.0.0.1", 3));
  next_sweep();
  CHECK_EQUAL(detail("10.0.0.1").sample_entries, 3u);
}

TEST(a pod lost after a restart is served its sample from before it) {
  settings.sample_interval = 1s;
  start(2);
  auto vanished = std::string{"10.0.0.1"};
  auto restarted = std::string{"10.0.0.2"};
  for (auto& ip : ips(3))
    pods->set_results(ip, entries_of(ip, 2));
  initiate(3);
  advance_time(grouped_commit_window);
  consume_messages();
  crash();
  MESSAGE("while the proxy restarts, one pod vanishes and another restarts "
          "too: the resumed sweep gets no answer from the first and [] from "
          "the second, which keeps the sample from before");
  pods->script(vanished, stage::collection,
               {sim_answer::refused, sim_answer::refused,
                sim_answer::refused, sim_answer::refused});
  pods->set_results(restarted, "[]\n");
  start(2);
  CHECK_EQUAL(detail(vanished).sample_entries, 2u);
  CHECK_EQUAL(detail(restarted).sample_entries, 2u);
  CHECK_GREATER(detail(restarted).restart_seen_unix_ms, 0);
  MESSAGE("at /stop the first is still gone, the second answers []");
  ask<round_status>(stop_atom_v);
  advance_time(100ms);
  consume_messages();
  advance_time(200ms);
  consume_messages();
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(served_results(vanished), entries_of(vanished, 2));
  CHECK_EQUAL(served_results(restarted), entries_of(restarted, 2));
  CHECK(detail(vanished).served_sample.find("collection failed")
        != std::string::npos);
  CHECK(detail(restarted).served_sample.find("does not extend")
        != std::string::npos);
  CHECK_EQUAL(sampling().served, 2u);
  auto status = ask<status_report>(status_atom_v, true);
  auto report = ask<completeness_report>(report_atom_v, true, uint32_t{0});
  CHECK_EQUAL(report.totals.reported, 3u);
  CHECK_EQUAL(report.totals.unknown, 0u);
  auto collection_calls = results_calls(vanished);
  MESSAGE("a second restart, after collection: the served pods are served "
          "as before, byte for byte, and said to be");
  crash();
  start(2);
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(count(pod_state::collect_failed), 1u);
  CHECK_EQUAL(served_results(vanished), entries_of(vanished, 2));
  CHECK_EQUAL(served_results(restarted), entries_of(restarted, 2));
  CHECK_EQUAL(results_calls(vanished), collection_calls);
  auto again = ask<status_report>(status_atom_v, true);
  CHECK_EQUAL(again.problems_total, status.problems_total);
  CHECK_EQUAL(again.sampling.served, 2u);
  REQUIRE_EQUAL(again.pods.size(), status.pods.size());
  for (size_t i = 0; i < again.pods.size(); ++i) {
    CHECK_EQUAL(again.pods[i].served_sample, status.pods[i].served_sample);
    CHECK_EQUAL(again.pods[i].sample_taken_unix_ms,
                status.pods[i].sample_taken_unix_ms);
  }
  MESSAGE("their tests count as reported, as before the restart (its pods "
          "listed in the order of the round, not of their collection)");
  auto report_again = ask<completeness_report>(report_atom_v, true,
                                               uint32_t{0});
  auto by_ip = [](completeness_report& x) {
    std::sort(x.pods.begin(), x.pods.end(),
              [](auto& a, auto& b) { return a.ip < b.ip; });
    return caf::deep_to_string(x);
  };
  CHECK_EQUAL(by_ip(report_again), by_ip(report));
}

TEST(a restart during collection keeps the samples of pods still to collect) {
  settings.sample_interval = 1s;
  start(2);
  for (auto& ip : ips(2))
    pods->set_results(ip, entries_of(ip, 2));
  initiate(2);
  MESSAGE("a pod restarts during the job; /stop commits, then the proxy dies "
          "with the /results calls out");
  pods->set_results("10.0.0.1", "[]\n");
  self->send(coord, stop_atom_v);
  expect((stop_atom), from(self).to(coord));
  crash();
  start(2);
  MESSAGE("asked again, its [] does not extend the sample kept in the store");
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(served_results("10.0.0.1"), entries_of("10.0.0.1", 2));
  CHECK(detail("10.0.0.1").served_sample.find("does not extend")
        != std::string::npos);
  CHECK_EQUAL(served_results("10.0.0.2"), entries_of("10.0.0.2", 2));
  CHECK(detail("10.0.0.2").served_sample.empty());
}

FIXTURE_SCOPE_END()

TEST(store blobs decode only what encode wrote) {
  round_catalog catalog;
  catalog.addresses = {"10.0.0.1", "fd00::2"};
  catalog.netpols = {"ingress-0-1", "ingress-0-2"};
  catalog.netpol_tests = {3, 300000};
  catalog.netpol_pods = {1, 2};
  round_catalog back;
  REQUIRE(decode(encode(catalog), back));
  CHECK_EQUAL(back.addresses, catalog.addresses);
  CHECK_EQUAL(back.netpols, catalog.netpols);
  CHECK_EQUAL(back.netpol_tests, catalog.netpol_tests);
  CHECK_EQUAL(back.netpol_pods, catalog.netpol_pods);
  MESSAGE("a byte more, a byte less, or columns of another length: refused");
  auto blob = encode(catalog);
  CHECK(!decode(blob + '\0', back = {}));
  CHECK(!decode(blob.substr(0, blob.size() - 1), back = {}));
  catalog.netpol_pods.pop_back();
  CHECK(!decode(encode(catalog), back = {}));
  MESSAGE("the lifecycle, with a superseded round and a refusal");
  lifecycle_meta lifecycle;
  round_summary summary;
  summary.round = 4;
  summary.ended_in = phase::collecting;
  summary.pods = 7;
  summary.collected = 5;
  summary.ended_unix_ms = -1;
  summary.by = "round 5";
  lifecycle.superseded.push_back(summary);
  lifecycle.rounds_superseded = 1;
  lifecycle.initiates_refused = 2;
  lifecycle.has_refusal = true;
  lifecycle.last_refusal = refusal_note{413, "too large", 1765000000000};
  lifecycle_meta loaded;
  REQUIRE(decode(encode(lifecycle), loaded));
  REQUIRE_EQUAL(loaded.superseded.size(), 1u);
  CHECK_EQUAL(loaded.superseded[0].ended_in, phase::collecting);
  CHECK_EQUAL(loaded.superseded[0].collected, 5u);
  CHECK_EQUAL(loaded.superseded[0].ended_unix_ms, -1);
  CHECK_EQUAL(loaded.superseded[0].by, "round 5");
  CHECK_EQUAL(loaded.initiates_refused, 2u);
  CHECK(loaded.has_refusal);
  CHECK(!loaded.refusal_pending);
  CHECK_EQUAL(loaded.last_refusal.reason, "too large");
  CHECK_EQUAL(loaded.last_refusal.at_unix_ms, 1765000000000);
  MESSAGE("a phase this proxy does not know is refused");
  lifecycle.superseded[0].ended_in = static_cast<phase>(9);
  CHECK(!decode(encode(lifecycle), loaded = {}));
}

TEST(the SQLite store keeps samples and served pods in its file) {
  temp_dir dir;
  REQUIRE(!dir.path.empty());
  auto plan = make_plan(ips(3));
  auto pods = delivered_pods(plan);
  round_meta meta;
  meta.round = 1;
  meta.current = phase::delivered;
  auto sample_body = entries_of("10.0.0.1", 2);
  auto served_body = entries_of("10.0.0.2", 1);
  {
    auto opened = sqlite_round_store::open(dir.path);
    REQUIRE(opened.store != nullptr);
    auto& store = *opened.store;
    store.begin_round(meta, *plan.catalog.ptr, pods);
    stored_sample sample{0, 2, 1765000000000, 1, 1765000001000,
                         compress_blob(sample_body)};
    store.save_sample(1, 0, sample);
    MESSAGE("a sample replaced: the later one is kept");
    sample.entries = 3;
    store.save_sample(1, 2, sample);
    sample.entries = 1;
    store.save_sample(1, 2, sample);
    MESSAGE("a pod served its sample: its reason, time and body");
    auto& served = pods[1];
    served.state = pod_state::collect_failed;
    served.collection_error = "refused";
    served.served_sample = "collection failed: refused";
    served.served_sample_taken_unix_ms = 1765000002000;
    served.results_entries = 1;
    store.save_pod(1, 1, served);
    store.save_collected(1, 1, compress_blob(served_body));
    store.commit();
  }
  MESSAGE("read back from the file by another store");
  auto opened = sqlite_round_store::open(dir.path);
  REQUIRE(opened.store != nullptr);
  CHECK_EQUAL(opened.note, "");
  auto saved = opened.store->load();
  REQUIRE_EQUAL(saved.samples.size(), 2u);
  CHECK_EQUAL(saved.samples[1].pod, 2u);
  CHECK_EQUAL(saved.samples[1].entries, 1u);
  auto& back = saved.samples[0];
  CHECK_EQUAL(back.pod, 0u);
  CHECK_EQUAL(back.entries, 2u);
  CHECK_EQUAL(back.taken_unix_ms, 1765000000000);
  CHECK_EQUAL(back.not_extending, 1u);
  CHECK_EQUAL(back.restart_seen_unix_ms, 1765000001000);
  std::string body;
  REQUIRE(decompress_blob(back.compressed.view(), body));
  CHECK_EQUAL(body, sample_body);
  REQUIRE_EQUAL(saved.pods.size(), 3u);
  auto& served = saved.pods[1];
  CHECK_EQUAL(served.state, pod_state::collect_failed);
  CHECK_EQUAL(served.served_sample, "collection failed: refused");
  CHECK_EQUAL(served.served_sample_taken_unix_ms, 1765000002000);
  MESSAGE("its body is kept although its collection failed, and accounted");
  CHECK(saved.results_kept[1]);
  CHECK_EQUAL(served.results.view(), served_body);
  CHECK_EQUAL(saved.accounts[1].reported, 1u);
  CHECK(saved.pods[0].served_sample.empty());
  MESSAGE("a new round drops the samples of the one before");
  meta.round = 2;
  opened.store->begin_round(meta, *plan.catalog.ptr, delivered_pods(plan));
  opened.store->commit();
  CHECK(opened.store->load().samples.empty());
}

TEST(the SQLite store moves a store of schema 4 aside) {
  temp_dir dir;
  REQUIRE(!dir.path.empty());
  auto path = dir.path + "/netpol-proxy.db";
  {
    sqlite3* db = nullptr;
    REQUIRE_EQUAL(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    CHECK_EQUAL(sqlite3_exec(db,
                             "CREATE TABLE meta (key TEXT PRIMARY KEY, "
                             "value BLOB) WITHOUT ROWID; INSERT INTO meta "
                             "VALUES ('schema', 4)",
                             nullptr, nullptr, nullptr),
                SQLITE_OK);
    sqlite3_close(db);
  }
  auto opened = sqlite_round_store::open(dir.path);
  REQUIRE(opened.store != nullptr);
  CHECK_NOT_EQUAL(opened.note.find("schema version 4, this proxy writes 5"),
                  std::string::npos);
  CHECK_NOT_EQUAL(opened.note.find("moved aside"), std::string::npos);
  size_t aside = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir.path))
    if (entry.path().filename().string().rfind("netpol-proxy.db.corrupt-", 0)
        == 0)
      ++aside;
  CHECK_EQUAL(aside, 1u);
  CHECK_EQUAL(opened.store->load().meta.round, 0u);
}
