#define CAF_SUITE coordinator

#include "coordinator_fixture.hpp"
#include "support/log_capture.hpp"

using namespace netpol;
using namespace netpol::test;
using namespace std::chrono_literals;

namespace {

using fixture = coordinator_fixture;

} // namespace


FIXTURE_SCOPE(coordinator_tests, fixture)

TEST(a round delivers each pod its list and collects its results) {
  start(2);
  pods->set_results("10.0.0.1", results_of("10.0.0.1"));
  pods->set_results("10.0.0.2", results_of("10.0.0.2"));
  auto plan = make_plan(ips(2));
  auto conns1 = plan.pods[0].connections;
  auto conns2 = plan.pods[1].connections;
  MESSAGE("kube-burner initiates a round with two pods");
  auto initiated = self->request(coord, caf::infinite, initiate_atom_v, plan);
  expect((initiate_atom, round_plan), from(self).to(coord));
  MESSAGE("each idle worker takes one pod");
  CHECK_EQUAL(current_phase(), phase::delivering);
  CHECK_EQUAL(count(pod_state::delivering), 2u);
  CHECK_EQUAL(busy_workers(), 2u);
  CHECK(idle_workers() == 0);
  initiated.receive(
    [&](round_status& st) {
      CHECK_EQUAL(st.round, 1u);
      CHECK_EQUAL(st.pods, 2u);
      CHECK(!st.delivery_done());
    },
    [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  expect((deliver_atom, pod_job),
         from(coord).to(spawned[0]).with(_, pod_job{1, 0, "10.0.0.1", conns1}));
  expect((deliver_atom, pod_job),
         from(coord).to(spawned[1]).with(_, pod_job{1, 1, "10.0.0.2", conns2}));
  MESSAGE("the first pod answers 200: delivered, the round still runs");
  expect((pod_outcome), from(spawned[0]).to(coord));
  CHECK_EQUAL(count(pod_state::delivered), 1u);
  CHECK_EQUAL(current_phase(), phase::delivering);
  MESSAGE("its list, never sent again, is released; the other pod's is kept");
  CHECK_EQUAL(pod("10.0.0.1").connections.size(), 0u);
  CHECK_EQUAL(pod("10.0.0.2").connections.view(), conns2.view());
  MESSAGE("the second pod answers 200: delivery is done");
  expect((pod_outcome), from(spawned[1]).to(coord));
  CHECK_EQUAL(count(pod_state::delivered), 2u);
  CHECK_EQUAL(current_phase(), phase::delivered);
  auto st = poll();
  CHECK(st.delivery_done());
  CHECK(!st.collection_done());
  CHECK_EQUAL(st.delivered, 2u);
  MESSAGE("each pod got exactly its own list, once");
  auto calls = pods->calls();
  REQUIRE_EQUAL(calls.size(), 2u);
  CHECK_EQUAL(calls[0].payload, connections_of("10.0.0.1"));
  CHECK_EQUAL(calls[1].payload, connections_of("10.0.0.2"));
  MESSAGE("kube-burner stops: the coordinator collects from both pods");
  auto stopped = self->request(coord, caf::infinite, stop_atom_v);
  expect((stop_atom), from(self).to(coord));
  CHECK_EQUAL(current_phase(), phase::collecting);
  CHECK_EQUAL(count(pod_state::collecting), 2u);
  stopped.receive([&](round_status& st) { CHECK(!st.collection_done()); },
                  [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  MESSAGE("each collection job carries what the pod was sent to test");
  auto collect_job = [&](uint32_t index, const std::string& ip) {
    pod_job job{1, index, ip, {}};
    job.expected = plan.pods[index].expected;
    return job;
  };
  expect((collect_atom, pod_job),
         from(coord).to(spawned[0]).with(_, collect_job(0, "10.0.0.1")));
  expect((collect_atom, pod_job),
         from(coord).to(spawned[1]).with(_, collect_job(1, "10.0.0.2")));
  expect((pod_outcome), from(spawned[0]).to(coord));
  CHECK_EQUAL(count(pod_state::collected), 1u);
  expect((pod_outcome), from(spawned[1]).to(coord));
  CHECK_EQUAL(current_phase(), phase::collected);
  MESSAGE("the results are each pod's bytes, unchanged");
  auto results = ask<results_snapshot>(results_atom_v);
  REQUIRE_EQUAL(results.pods.size(), 2u);
  CHECK_EQUAL(results.pods[0].ip, "10.0.0.1");
  CHECK_EQUAL(results.pods[0].body.view(), results_of("10.0.0.1"));
  CHECK_EQUAL(results.pods[1].ip, "10.0.0.2");
  CHECK_EQUAL(results.pods[1].body.view(), results_of("10.0.0.2"));
  auto report = ask<status_report>(status_atom_v, false);
  CHECK_EQUAL(report.results_entries, 2u);
  CHECK_EQUAL(report.calls, 4u);
  CHECK_EQUAL(report.retries, 0u);
  CHECK(report.problems.empty());
}

TEST(before any round status is false and stop and results are refused) {
  start(2);
  auto st = poll();
  CHECK_EQUAL(st.round, 0u);
  CHECK_EQUAL(st.current, phase::idle);
  CHECK(!st.delivery_done());
  CHECK(!st.collection_done());
  MESSAGE("stop before initiate is an error, not an instant 'done'");
  CHECK_EQUAL(code_of(ask_error<round_status>(stop_atom_v)), errc::no_round);
  CHECK_EQUAL(code_of(ask_error<results_snapshot>(results_atom_v)),
              errc::results_not_ready);
  CHECK_EQUAL(poll().current, phase::idle);
  CHECK(pods->calls().empty());
}

TEST(the plan of the running round again changes nothing) {
  start(2);
  pods->script("10.0.0.1", stage::delivery, {sim_answer::refused});
  initiate(3);
  CHECK_EQUAL(current_phase(), phase::delivering); // 10.0.0.1 backs off
  auto calls = pods->calls().size();
  MESSAGE("a retried POST of the same body, while delivering");
  auto again = initiate(3);
  CHECK_EQUAL(again.round, 1u);
  CHECK_EQUAL(round_number(), 1u);
  CHECK_EQUAL(pods->calls().size(), calls);
  advance_time(100ms);
  consume_messages();
  CHECK_EQUAL(current_phase(), phase::delivered);
  MESSAGE("... once delivered");
  CHECK_EQUAL(initiate(3).round, 1u);
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(current_phase(), phase::collected);
  for (auto& ip : ips(3))
    CHECK_EQUAL(pods->calls_to(ip, stage::delivery),
                ip == "10.0.0.1" ? 2u : 1u);
  MESSAGE("after collection the same body is a new round, as kube-burner "
          "would run it again");
  CHECK_EQUAL(initiate(3).round, 2u);
  CHECK(ask<status_report>(status_atom_v, false).superseded.empty());
}

TEST(another plan supersedes a delivering round and discards its calls) {
  start(2);
  auto a = make_plan(ips(3));
  self->send(coord, initiate_atom_v, a);
  expect((initiate_atom, round_plan), from(self).to(coord));
  MESSAGE("round 1: two calls in flight, one pod queued");
  CHECK_EQUAL(busy_workers(), 2u);
  MESSAGE("a new kube-burner run posts another plan: 10.0.0.1 again, and a "
          "new pod");
  auto b = make_plan({"10.0.0.1", "10.0.0.9"});
  auto st = ask<round_status>(initiate_atom_v, b);
  CHECK_EQUAL(st.round, 2u);
  CHECK_EQUAL(pod_count(), 2u);
  MESSAGE("round 1's queued pod was never called; its calls in flight were "
          "answered and discarded");
  CHECK_EQUAL(pods->calls_to("10.0.0.3", stage::delivery), 0u);
  CHECK_EQUAL(pods->calls_to("10.0.0.2", stage::delivery), 1u);
  CHECK_EQUAL(count(pod_state::delivered), 2u);
  MESSAGE("10.0.0.1 got one /check per round, the second after the first "
          "ended");
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 2u);
  CHECK_EQUAL(pods->calls_to("10.0.0.9", stage::delivery), 1u);
  CHECK(stale_calls() == 0);
  auto report = ask<status_report>(status_atom_v, false);
  REQUIRE_EQUAL(report.superseded.size(), 1u);
  CHECK_EQUAL(report.superseded[0].round, 1u);
  CHECK_EQUAL(report.superseded[0].ended_in, phase::delivering);
  CHECK_EQUAL(report.superseded[0].in_flight, 2u);
  CHECK_EQUAL(report.superseded[0].by, "round 2");
  MESSAGE("round 2 runs on alone");
  ask<round_status>(stop_atom_v);
  auto results = ask<results_snapshot>(results_atom_v);
  CHECK_EQUAL(results.round, 2u);
  CHECK_EQUAL(results.pods.size(), 2u);
}

TEST(a new round waits for an old call to the same pod before it calls) {
  start(2);
  self->send(coord, initiate_atom_v, make_plan(ips(1)));
  expect((initiate_atom, round_plan), from(self).to(coord));
  CHECK_EQUAL(busy_workers(), 1u);
  MESSAGE("round 2 names the pod whose round-1 call is still in flight");
  self->send(coord, initiate_atom_v, make_plan({"10.0.0.1", "10.0.0.2"}));
  expect((initiate_atom, round_plan), from(self).to(coord));
  CHECK_EQUAL(round_number(), 2u);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::queued);
  CHECK_EQUAL(deferred("10.0.0.1"), true);
  MESSAGE("the old call ends: now, and only now, round 2 calls it");
  consume_messages();
  CHECK(deferred_pods() == 0);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::delivered);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 2u);
}

TEST(another plan supersedes a delivered or collecting round) {
  start(2);
  pods->set_results("10.0.0.1", results_of("10.0.0.1"));
  initiate(2);
  CHECK_EQUAL(current_phase(), phase::delivered);
  MESSAGE("delivered, waiting for /stop: a re-run's plan supersedes it");
  CHECK_EQUAL(ask<round_status>(initiate_atom_v, make_plan({"10.0.0.5"})).round,
              2u);
  CHECK_EQUAL(current_phase(), phase::delivered);
  MESSAGE("collecting: the same, and the old results are never served");
  pods->script("10.0.0.5", stage::collection, {sim_answer::refused});
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(current_phase(), phase::collecting);
  CHECK_EQUAL(ask<round_status>(initiate_atom_v, make_plan({"10.0.0.7"})).round,
              3u);
  CHECK_EQUAL(code_of(ask_error<results_snapshot>(results_atom_v)),
              errc::results_not_ready);
  advance_time(1s);
  consume_messages();
  MESSAGE("round 2's retry timer fired into round 3: ignored");
  CHECK_EQUAL(pods->calls_to("10.0.0.5", stage::collection), 1u);
  auto report = ask<status_report>(status_atom_v, false);
  REQUIRE_EQUAL(report.superseded.size(), 2u);
  CHECK_EQUAL(report.superseded[0].ended_in, phase::delivered);
  CHECK_EQUAL(report.superseded[1].ended_in, phase::collecting);
  CHECK_EQUAL(ask<proxy_metrics>(metrics_atom_v).rounds_superseded, 2u);
}

TEST(a refused initiate makes status polls and stop say so) {
  start(2);
  MESSAGE("idle: the body was too large");
  self->send(coord, refused_atom_v, uint16_t{413},
             std::string{"body names more than 10 pods (--max-pods)"});
  consume_messages();
  auto st = poll();
  CHECK_EQUAL(st.refusal, "body names more than 10 pods (--max-pods)");
  CHECK_EQUAL(code_of(ask_error<round_status>(stop_atom_v)),
              errc::initiate_refused);
  auto report = ask<status_report>(status_atom_v, false);
  CHECK(report.has_refusal);
  CHECK_EQUAL(report.last_refusal.http_status, 413u);
  MESSAGE("a valid /initiate clears it");
  initiate(1);
  CHECK_EQUAL(poll().refusal, "");
  ask<round_status>(stop_atom_v);
  MESSAGE("collected: a refusal hides the old round from status polls");
  self->send(coord, refused_atom_v, uint16_t{400}, std::string{"bad key"});
  consume_messages();
  CHECK_EQUAL(poll().refusal, "bad key");
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(code_of(ask_error<round_status>(stop_atom_v)),
              errc::initiate_refused);
}

TEST(a refused initiate ends a running round) {
  start(2);
  pods->script("10.0.0.1", stage::delivery, {sim_answer::refused});
  initiate(2);
  CHECK_EQUAL(current_phase(), phase::delivering);
  self->send(coord, refused_atom_v, uint16_t{400}, std::string{"bad key"});
  consume_messages();
  CHECK_EQUAL(current_phase(), phase::idle);
  CHECK_EQUAL(poll().refusal, "bad key");
  advance_time(1s);
  consume_messages();
  MESSAGE("the old round's retry never happens");
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 1u);
  auto report = ask<status_report>(status_atom_v, false);
  REQUIRE_EQUAL(report.superseded.size(), 1u);
  CHECK_EQUAL(report.superseded[0].by, "a refused /initiate");
}

TEST(completeness counts each pod and netpol against what it was sent) {
  start(3);
  auto entry = [](const std::string& ip, int idx, const char* address) {
    return R"({"address":")" + std::string{address}
           + R"(","port":8080,"connectionidx":)" + std::to_string(idx)
           + R"(,"npname":"np-)" + ip
           + R"(","timestamp":"2024-10-01T11:18:33.247061614Z"})";
  };
  pods->set_results("10.0.0.1", results_of("10.0.0.1")); // complete
  // 10.0.0.2 reports nothing: its one test is missing.
  pods->set_results("10.0.0.3", "[" + entry("10.0.0.3", 0, "10.9.9.9") + ","
                                  + entry("10.0.0.3", 0, "10.9.9.9") + "]");
  pods->set_results("10.0.0.4", "[" + entry("10.0.0.4", 0, "10.9.9.9") + ","
                                  + entry("10.0.0.4", 3, "10.9.9.9") + ","
                                  + entry("10.0.0.4", 0, "10.1.1.1") + "]");
  pods->script("10.0.0.5", stage::collection,
               {sim_answer::http_400}); // never collected
  pods->script("10.0.0.6", stage::delivery,
               {sim_answer::http_400}); // never took its list
  initiate(6);
  MESSAGE("before /stop there is nothing to count");
  CHECK_EQUAL(code_of(ask_error<completeness_report>(report_atom_v, true,
                                                     uint32_t{0})),
              errc::results_not_ready);
  ask<round_status>(stop_atom_v);
  auto r = ask<completeness_report>(report_atom_v, true, uint32_t{0});
  CHECK_EQUAL(r.totals.expected, 6u);
  CHECK_EQUAL(r.totals.reported, 3u);
  CHECK_EQUAL(r.totals.missing, 1u);
  CHECK_EQUAL(r.totals.duplicates, 1u);
  CHECK_EQUAL(r.totals.unexpected, 2u);
  CHECK_EQUAL(r.totals.unknown, 2u);
  CHECK_EQUAL(r.totals.pods_incomplete, 3u);
  CHECK_EQUAL(r.totals.netpols_incomplete, 3u);
  CHECK_EQUAL(r.totals.netpols_missing, 1u);
  MESSAGE("worst netpol first: the one with a missing test");
  REQUIRE_EQUAL(r.netpols.size(), 6u);
  CHECK_EQUAL(r.netpols[0].name, "np-10.0.0.2");
  CHECK_EQUAL(r.netpols[0].missing, 1u);
  REQUIRE_EQUAL(r.netpols[0].sample_pods.size(), 1u);
  CHECK_EQUAL(r.netpols[0].sample_pods[0], "10.0.0.2");
  MESSAGE("pods with a problem: missing, duplicates, unexpected, unknown");
  std::map<std::string, pod_completeness_row> rows;
  for (auto& row : r.pods)
    rows[row.ip] = row;
  CHECK_EQUAL(rows.size(), 5u);
  CHECK_EQUAL(rows.count("10.0.0.1"), 0u);
  CHECK_EQUAL(rows["10.0.0.2"].missing, 1u);
  REQUIRE_EQUAL(rows["10.0.0.2"].missing_netpols.size(), 1u);
  CHECK_EQUAL(rows["10.0.0.3"].duplicates, 1u);
  CHECK_EQUAL(rows["10.0.0.4"].unexpected, 2u);
  CHECK_EQUAL(rows["10.0.0.5"].unknown, 1u);
  CHECK_EQUAL(rows["10.0.0.5"].state, pod_state::collect_failed);
  CHECK_EQUAL(rows["10.0.0.6"].unknown, 1u);
  CHECK_EQUAL(rows["10.0.0.6"].missing, 0u);
  MESSAGE("/status carries the totals too");
  auto status = ask<status_report>(status_atom_v, false);
  CHECK(status.has_completeness);
  CHECK_EQUAL(status.completeness.missing, 1u);
  MESSAGE("the pod list is capped like /status unless all are asked for");
  auto capped = ask<completeness_report>(report_atom_v, false, uint32_t{2});
  CHECK_EQUAL(capped.netpols.size(), 2u);
  CHECK_EQUAL(capped.netpols_total, 6u);
}

TEST(a second stop answers the status and changes nothing) {
  start(2);
  initiate(2);
  auto first = ask<round_status>(stop_atom_v);
  auto calls = pods->calls().size();
  auto second = ask<round_status>(stop_atom_v);
  CHECK_EQUAL(second.current, phase::collected);
  CHECK_EQUAL(pods->calls().size(), calls);
  CHECK_EQUAL(first.round, second.round);
}

TEST(a refused pod is retried with exponential backoff) {
  start(2);
  pods->script("10.0.0.1", stage::delivery,
               {sim_answer::refused, sim_answer::refused});
  initiate(1);
  MESSAGE("first attempt refused: the pod waits 100ms");
  CHECK_EQUAL(count(pod_state::queued), 1u);
  CHECK_EQUAL(poll().in_backoff, 1u);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 1u);
  advance_time(99ms);
  consume_messages();
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 1u);
  advance_time(1ms);
  consume_messages();
  MESSAGE("second attempt refused after exactly 100ms: now it waits 200ms");
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 2u);
  advance_time(199ms);
  consume_messages();
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 2u);
  advance_time(1ms);
  consume_messages();
  MESSAGE("third attempt succeeds");
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 3u);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::delivered);
  CHECK_EQUAL(pod("10.0.0.1").delivery_attempts, 3u);
  CHECK_EQUAL(current_phase(), phase::delivered);
  CHECK_EQUAL(ask<status_report>(status_atom_v, false).retries, 2u);
}

TEST(backoff doubles up to its cap) {
  settings.retries = 5;
  start(1);
  pods->script("10.0.0.1", stage::delivery,
               {sim_answer::send_reset, sim_answer::send_reset,
                sim_answer::send_reset, sim_answer::send_reset});
  initiate(1);
  // 100ms, 200ms, then capped at 250ms twice.
  for (auto delay : {100ms, 200ms, 250ms, 250ms}) {
    auto before = pods->calls_to("10.0.0.1", stage::delivery);
    advance_time(delay - 1ms);
    consume_messages();
    CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), before);
    advance_time(1ms);
    consume_messages();
    CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), before + 1);
  }
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::delivered);
}

TEST(a check that never reached the pod is retried until the pod answers) {
  start(4);
  MESSAGE("refused, no connection, reset while sending, or a 5xx answer");
  pods->script("10.0.0.1", stage::delivery, {sim_answer::refused});
  pods->script("10.0.0.2", stage::delivery, {sim_answer::send_reset});
  pods->script("10.0.0.3", stage::delivery, {sim_answer::http_500});
  pods->script("10.0.0.4", stage::delivery, {sim_answer::connect_timeout});
  initiate(4);
  CHECK_EQUAL(count(pod_state::queued), 4u);
  CHECK_EQUAL(pod("10.0.0.1").delivery_error,
              "connection refused or unreachable");
  CHECK_EQUAL(pod("10.0.0.2").delivery_error,
              "connection reset while sending");
  CHECK_EQUAL(pod("10.0.0.3").delivery_error, "HTTP 500: internal error");
  CHECK_EQUAL(pod("10.0.0.4").delivery_error, "no connection within 3s");
  advance_time(100ms);
  consume_messages();
  CHECK_EQUAL(count(pod_state::delivered), 4u);
  CHECK_EQUAL(poll().delivered, 4u);
  for (auto& ip : ips(4))
    CHECK_EQUAL(pods->calls_to(ip, stage::delivery), 2u);
}

TEST(a check sent but not answered is unconfirmed and never sent again) {
  start(4);
  MESSAGE("the whole request went out; then a reset, a timeout, garbage");
  pods->script("10.0.0.1", stage::delivery, {sim_answer::reset});
  pods->script("10.0.0.2", stage::delivery, {sim_answer::timeout});
  pods->script("10.0.0.3", stage::delivery, {sim_answer::bad_answer});
  initiate(4);
  MESSAGE("each ends delivery after that one attempt: the pod may hold it");
  CHECK_EQUAL(current_phase(), phase::delivered);
  CHECK_EQUAL(poll().unconfirmed, 3u);
  CHECK_EQUAL(poll().delivered, 1u);
  CHECK_EQUAL(poll().in_backoff, 0u);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::unconfirmed);
  CHECK_EQUAL(pod("10.0.0.1").delivery_error,
              "connection closed before an answer");
  CHECK_EQUAL(pod("10.0.0.2").delivery_error, "no answer within 13s");
  CHECK_EQUAL(pod("10.0.0.3").delivery_error,
              "header line longer than 8192 bytes");
  advance_time(10s);
  consume_messages();
  for (auto& ip : ips(3)) {
    CHECK_EQUAL(pod(ip).delivery_attempts, 1u);
    CHECK_EQUAL(pods->calls_to(ip, stage::delivery), 1u);
  }
  MESSAGE("all three are collected like everyone else");
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(count(pod_state::collected), 4u);
}

TEST(results are fetched again after any failure but a 4xx) {
  start(4);
  pods->set_results("10.0.0.1", results_of("10.0.0.1"));
  pods->script("10.0.0.1", stage::collection,
               {sim_answer::reset, sim_answer::timeout});
  pods->script("10.0.0.2", stage::collection, {sim_answer::bad_answer});
  pods->script("10.0.0.3", stage::collection, {sim_answer::http_400});
  initiate(4);
  ask<round_status>(stop_atom_v);
  advance_time(100ms);
  consume_messages();
  advance_time(200ms);
  consume_messages();
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::collection), 3u);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::collected);
  CHECK_EQUAL(pods->calls_to("10.0.0.2", stage::collection), 2u);
  CHECK_EQUAL(pod("10.0.0.2").state, pod_state::collected);
  CHECK_EQUAL(pods->calls_to("10.0.0.3", stage::collection), 1u);
  CHECK_EQUAL(pod("10.0.0.3").state, pod_state::collect_failed);
}

TEST(a pod that rejects its list with 400 fails at once) {
  start(2);
  pods->script("10.0.0.1", stage::delivery, {sim_answer::http_400});
  initiate(2);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::failed);
  CHECK_EQUAL(pod("10.0.0.1").delivery_attempts, 1u);
  CHECK_EQUAL(pod("10.0.0.1").delivery_error, "HTTP 400: bad request");
  CHECK_EQUAL(current_phase(), phase::delivered);
  auto st = poll();
  CHECK_EQUAL(st.delivered, 1u);
  CHECK_EQUAL(st.delivery_failed, 1u);
}

TEST(a pod out of retries fails and the round still finishes) {
  start(2);
  pods->script("10.0.0.2", stage::delivery,
               {sim_answer::refused, sim_answer::refused, sim_answer::refused,
                sim_answer::refused});
  initiate(3);
  advance_time(100ms);
  consume_messages();
  CHECK_EQUAL(current_phase(), phase::delivering);
  MESSAGE("a pod waiting to retry keeps its list");
  CHECK_NOT_EQUAL(pod("10.0.0.2").connections.size(), 0u);
  advance_time(200ms);
  consume_messages();
  MESSAGE("three attempts (retries = 2), then failed; no fourth call");
  CHECK_EQUAL(pod("10.0.0.2").state, pod_state::failed);
  CHECK_EQUAL(pod("10.0.0.2").connections.size(), 0u);
  CHECK_EQUAL(pods->calls_to("10.0.0.2", stage::delivery), 3u);
  CHECK_EQUAL(current_phase(), phase::delivered);
  advance_time(10s);
  consume_messages();
  CHECK_EQUAL(pods->calls_to("10.0.0.2", stage::delivery), 3u);
  auto report = ask<status_report>(status_atom_v, false);
  REQUIRE_EQUAL(report.problems.size(), 1u);
  CHECK_EQUAL(report.problems[0].ip, "10.0.0.2");
  CHECK_EQUAL(report.problems[0].delivery_outcome, pod_state::failed);
  CHECK_EQUAL(report.problems[0].delivery_attempts, 3u);
}

TEST(status lists the pods waiting to retry with their attempts and error) {
  start(2);
  pods->script("10.0.0.2", stage::delivery,
               {sim_answer::refused, sim_answer::refused});
  initiate(3);
  MESSAGE("refused once: not a problem yet, but waiting to retry");
  auto report = ask<status_report>(status_atom_v, false);
  CHECK_EQUAL(report.problems_total, 0u);
  CHECK_EQUAL(report.retrying_total, 1u);
  REQUIRE_EQUAL(report.retrying.size(), 1u);
  CHECK_EQUAL(report.retrying[0].ip, "10.0.0.2");
  CHECK_EQUAL(report.retrying[0].state, pod_state::queued);
  CHECK_EQUAL(report.retrying[0].delivery_attempts, 1u);
  CHECK_NOT_EQUAL(report.retrying[0].delivery_error, "");
  MESSAGE("refused again: two attempts so far");
  advance_time(100ms);
  consume_messages();
  report = ask<status_report>(status_atom_v, true);
  REQUIRE_EQUAL(report.retrying.size(), 1u);
  CHECK_EQUAL(report.retrying[0].delivery_attempts, 2u);
  MESSAGE("delivered at the third: no pod waits any more");
  advance_time(200ms);
  consume_messages();
  CHECK_EQUAL(pod("10.0.0.2").state, pod_state::delivered);
  report = ask<status_report>(status_atom_v, false);
  CHECK_EQUAL(report.retrying_total, 0u);
  CHECK(report.retrying.empty());
}

TEST(status lists the first problem pods and counts them all) {
  start(4);
  auto count = max_listed_problems + 5;
  for (auto& ip : ips(count))
    pods->script(ip, stage::delivery, {sim_answer::http_400});
  pods->script("10.0.0.1", stage::collection, {sim_answer::http_400});
  initiate(count);
  CHECK_EQUAL(current_phase(), phase::delivered);
  MESSAGE("every pod failed; a status lists the first ones, counts them all");
  auto report = ask<status_report>(status_atom_v, false);
  CHECK_EQUAL(report.problems_total, count);
  CHECK_EQUAL(report.problems.size(), max_listed_problems);
  MESSAGE("asked for every pod, it lists every problem too");
  auto full = ask<status_report>(status_atom_v, true);
  CHECK_EQUAL(full.problems.size(), count);
  CHECK_EQUAL(full.pods.size(), count);
  MESSAGE("a pod that then fails collection too is still one problem");
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::collect_failed);
  auto after = ask<status_report>(status_atom_v, true);
  CHECK_EQUAL(after.problems_total, count);
  CHECK_EQUAL(after.problems.size(), count);
  MESSAGE("a new round starts with none");
  initiate(1);
  CHECK_EQUAL(ask<status_report>(status_atom_v, false).problems_total, 0u);
}

TEST(a delivery that ended in a timeout is unconfirmed and still collected) {
  start(2);
  pods->script("10.0.0.1", stage::delivery, {sim_answer::timeout});
  pods->set_results("10.0.0.1", results_of("10.0.0.1"));
  initiate(2);
  MESSAGE("the pod may have taken the call: unconfirmed, not failed");
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::unconfirmed);
  auto st = poll();
  CHECK_EQUAL(st.unconfirmed, 1u);
  CHECK_EQUAL(st.delivery_failed, 0u);
  CHECK(st.delivery_done());
  MESSAGE("at stop its results are fetched like everyone's");
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::collected);
  auto results = ask<results_snapshot>(results_atom_v);
  REQUIRE_EQUAL(results.pods.size(), 2u);
  CHECK_EQUAL(results.pods[0].body.view(), results_of("10.0.0.1"));
}

TEST(a pod that answered 200 is never sent its list again) {
  start(2);
  pods->script("10.0.0.1", stage::collection,
               {sim_answer::http_500, sim_answer::reset});
  initiate(2);
  ask<round_status>(stop_atom_v);
  advance_time(100ms);
  consume_messages();
  advance_time(200ms);
  consume_messages();
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::collection), 3u);
  for (auto& ip : ips(2))
    CHECK_EQUAL(pods->calls_to(ip, stage::delivery), 1u);
}

TEST(collection reaches every pod whatever its delivery outcome) {
  start(3);
  pods->script("10.0.0.1", stage::delivery, {sim_answer::http_400});
  pods->script("10.0.0.2", stage::delivery,
               {sim_answer::refused, sim_answer::refused,
                sim_answer::refused});
  initiate(3);
  advance_time(100ms);
  consume_messages();
  advance_time(200ms);
  consume_messages();
  CHECK_EQUAL(poll().delivery_failed, 2u);
  ask<round_status>(stop_atom_v);
  for (auto& ip : ips(3))
    CHECK_EQUAL(pods->calls_to(ip, stage::collection), 1u);
  CHECK_EQUAL(count(pod_state::collected), 3u);
  MESSAGE("delivery outcomes stay visible after collection");
  auto st = poll();
  CHECK_EQUAL(st.delivered, 1u);
  CHECK_EQUAL(st.delivery_failed, 2u);
}

TEST(malformed results are retried and a pod that keeps sending them fails) {
  start(2);
  pods->set_results("10.0.0.1", results_of("10.0.0.1"));
  pods->set_results("10.0.0.2", results_of("10.0.0.2"));
  pods->script("10.0.0.1", stage::collection, {sim_answer::bad_json});
  pods->script("10.0.0.2", stage::collection,
               {sim_answer::bad_json, sim_answer::bad_json,
                sim_answer::bad_json});
  initiate(2);
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(count(pod_state::collect_queued), 2u);
  CHECK_EQUAL(pod("10.0.0.1").collection_error.rfind("bad results body", 0),
              0u);
  advance_time(100ms);
  consume_messages();
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::collected);
  advance_time(200ms);
  consume_messages();
  CHECK_EQUAL(pod("10.0.0.2").state, pod_state::collect_failed);
  CHECK_EQUAL(current_phase(), phase::collected);
  MESSAGE("the failed pod is absent from the results, the other intact");
  auto results = ask<results_snapshot>(results_atom_v);
  REQUIRE_EQUAL(results.pods.size(), 1u);
  CHECK_EQUAL(results.pods[0].ip, "10.0.0.1");
  CHECK_EQUAL(results.pods[0].body.view(), results_of("10.0.0.1"));
}

TEST(a worker that crashes is replaced and its pod collected again) {
  start(2);
  pods->set_results("10.0.0.1", results_of("10.0.0.1"));
  pods->script("10.0.0.1", stage::collection, {sim_answer::crash});
  initiate(2);
  ask<round_status>(stop_atom_v);
  MESSAGE("the crash counts as an attempt; a fresh worker joins the pool");
  CHECK_EQUAL(spawned.size(), 3u);
  CHECK_EQUAL(worker_restarts(), 1u);
  CHECK_EQUAL(idle_workers() + busy_workers(), 2u);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::collect_queued);
  CHECK_EQUAL(pod("10.0.0.1").collection_error.rfind("worker died", 0), 0u);
  advance_time(100ms);
  consume_messages();
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::collected);
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(idle_workers(), 2u);
}

TEST(a worker that crashes while delivering leaves its pod unconfirmed) {
  start(2);
  pods->script("10.0.0.1", stage::delivery, {sim_answer::crash});
  initiate(2);
  MESSAGE("it may have died after sending: the list is not sent again");
  CHECK_EQUAL(worker_restarts(), 1u);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::unconfirmed);
  CHECK_EQUAL(pod("10.0.0.1").delivery_error.rfind("worker died", 0), 0u);
  advance_time(1s);
  consume_messages();
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 1u);
  CHECK_EQUAL(current_phase(), phase::delivered);
  CHECK_EQUAL(idle_workers(), 2u);
}

TEST(a pod that keeps killing workers fails after its attempt budget) {
  start(2);
  pods->script("10.0.0.1", stage::collection,
               {sim_answer::crash, sim_answer::crash, sim_answer::crash});
  initiate(3);
  ask<round_status>(stop_atom_v);
  advance_time(100ms);
  consume_messages();
  advance_time(200ms);
  consume_messages();
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::collect_failed);
  CHECK_EQUAL(worker_restarts(), 3u);
  CHECK_EQUAL(count(pod_state::collected), 2u);
  CHECK_EQUAL(current_phase(), phase::collected);
  MESSAGE("the pool is back to full strength");
  CHECK_EQUAL(idle_workers(), 2u);
  CHECK(busy_workers() == 0);
}

TEST(a worker killed with a job in its mailbox gets the job re-queued) {
  start(2);
  auto plan = make_plan(ips(2));
  self->send(coord, initiate_atom_v, plan);
  expect((initiate_atom, round_plan), from(self).to(coord));
  MESSAGE("kill the first worker before it reads its job");
  auto victim = spawned[0];
  // anon_send_exit queues behind the job; an urgent exit overtakes it.
  victim->enqueue(nullptr, caf::make_message_id(caf::message_priority::high),
                  caf::make_message(
                    caf::exit_msg{victim.address(), caf::exit_reason::kill}),
                  nullptr);
  consume_messages();
  CHECK_EQUAL(worker_restarts(), 1u);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::queued);
  advance_time(100ms);
  consume_messages();
  CHECK_EQUAL(count(pod_state::delivered), 2u);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 1u);
  CHECK_EQUAL(idle_workers(), 2u);
}

TEST(an idle worker that dies is replaced) {
  start(3);
  caf::anon_send_exit(spawned[1], caf::exit_reason::kill);
  consume_messages();
  CHECK_EQUAL(worker_restarts(), 1u);
  CHECK_EQUAL(idle_workers(), 3u);
  CHECK_EQUAL(spawned.size(), 4u);
  initiate(6);
  CHECK_EQUAL(count(pod_state::delivered), 6u);
}

TEST(a worker that never answers is retired at its deadline) {
  hung_spawns = 1;
  start(1);
  initiate(1);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::delivering);
  advance_time(settings.worker_deadline() - 1ms);
  consume_messages();
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::delivering);
  advance_time(1ms);
  consume_messages();
  CHECK_EQUAL(*swallowed, 1u);
  MESSAGE("nobody knows how far the call got: unconfirmed, a fresh worker");
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::unconfirmed);
  CHECK_EQUAL(pod("10.0.0.1").delivery_error.rfind("worker gave no answer",
                                                   0),
              0u);
  MESSAGE("spawned: the first worker, the fresh one, and the sampler's two "
          "that asked the unconfirmed pod whether it took its list");
  CHECK_EQUAL(spawned.size(), 4u);
  CHECK_EQUAL(idle_workers(), 1u);
  MESSAGE("its results are still fetched, by the fresh worker");
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::collected);
}

TEST(the pool never runs more calls than it has workers) {
  start(3);
  for (auto& ip : ips(10))
    if (ip != "10.0.0.5")
      pods->script(ip, stage::delivery, {sim_answer::refused});
  self->send(coord, initiate_atom_v, make_plan(ips(10)));
  size_t steps = 0;
  size_t most_busy = 0;
  auto step = [&] {
    ++steps;
    auto busy = busy_workers();
    most_busy = std::max(most_busy, busy);
    CHECK_LESS_OR_EQUAL(busy, 3u);
    CHECK_EQUAL(count(pod_state::delivering) + count(pod_state::collecting),
                busy);
  };
  while (consume_message())
    step();
  while (current_phase() == phase::delivering) {
    advance_time(10ms);
    while (consume_message())
      step();
  }
  CHECK_EQUAL(most_busy, 3u);
  CHECK_GREATER(steps, 20u);
  CHECK_EQUAL(count(pod_state::delivered), 10u);
}

TEST(stop during delivery abandons pending attempts and collects everyone) {
  start(2);
  pods->script("10.0.0.1", stage::delivery, {sim_answer::refused});
  initiate(3);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::queued);
  CHECK(pod("10.0.0.1").awaiting_retry);
  ask<round_status>(stop_atom_v);
  CHECK_EQUAL(pod("10.0.0.1").delivery_outcome, pod_state::failed);
  CHECK_EQUAL(pod("10.0.0.1").state, pod_state::collected);
  MESSAGE("the stale retry timer does not deliver after stop");
  advance_time(1s);
  consume_messages();
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 1u);
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(poll().in_backoff, 0u);
}

TEST(an attempt that fails after an early stop is not retried and says why) {
  start(2);
  pods->script("10.0.0.1", stage::delivery, {sim_answer::http_500});
  MESSAGE("kube-burner stops while both /checks are out");
  self->send(coord, initiate_atom_v, make_plan(ips(2)));
  self->send(coord, stop_atom_v);
  expect((initiate_atom, round_plan), from(self).to(coord));
  expect((stop_atom), from(self).to(coord));
  CHECK_EQUAL(count(pod_state::delivering), 2u);
  MESSAGE("the first pod answers 500: with attempts left, none is made");
  consume_messages();
  advance_time(1s);
  consume_messages();
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 1u);
  auto& failed = pod("10.0.0.1");
  CHECK_EQUAL(failed.delivery_outcome, pod_state::failed);
  CHECK_NOT_EQUAL(failed.delivery_error.find("HTTP 500"), std::string::npos);
  CHECK_NOT_EQUAL(
    failed.delivery_error.find("round stopped before the next attempt"),
    std::string::npos);
  MESSAGE("the other pod answered 200 after the stop: delivered");
  CHECK_EQUAL(pod("10.0.0.2").delivery_outcome, pod_state::delivered);
  MESSAGE("both are collected");
  CHECK_EQUAL(current_phase(), phase::collected);
  CHECK_EQUAL(count(pod_state::collected), 2u);
}

TEST(status counts follow every step) {
  start(2);
  pods->script("10.0.0.3", stage::delivery, {sim_answer::refused});
  auto st = initiate(3);
  CHECK_EQUAL(st.count(pod_state::delivering), 2u);
  CHECK_EQUAL(st.count(pod_state::queued), 1u);
  st = poll();
  CHECK_EQUAL(st.count(pod_state::delivered), 2u);
  CHECK_EQUAL(st.count(pod_state::queued), 1u);
  CHECK_EQUAL(st.in_backoff, 1u);
  CHECK_EQUAL(st.current, phase::delivering);
  advance_time(100ms);
  consume_messages();
  st = poll();
  CHECK_EQUAL(st.count(pod_state::delivered), 3u);
  CHECK_EQUAL(st.in_backoff, 0u);
  CHECK_EQUAL(st.current, phase::delivered);
  MESSAGE("stop answers at once: two pods collecting, one waiting");
  st = ask<round_status>(stop_atom_v);
  CHECK_EQUAL(st.count(pod_state::collecting), 2u);
  CHECK_EQUAL(st.count(pod_state::collect_queued), 1u);
  CHECK(!st.collection_done());
  st = poll();
  CHECK_EQUAL(st.count(pod_state::collected), 3u);
  CHECK_EQUAL(st.count(pod_state::delivered), 0u);
  CHECK_EQUAL(st.delivered, 3u);
  CHECK(st.collection_done());
}

TEST(a phase stuck on hung pods still logs its progress every interval) {
  log_capture log;
  settings.progress_interval = 2s;
  hung_spawns = 4; // the first workers and their replacements hang
  pods->set_results("10.0.0.1", results_of("10.0.0.1"));
  pods->set_results("10.0.0.2", results_of("10.0.0.2"));
  start(2);
  initiate(2);
  MESSAGE("both /check calls hang: no call ends, yet a line every 2 s");
  CHECK(log.take("Delivery progress").empty());
  advance_time(1999ms);
  consume_messages();
  CHECK(log.take("Delivery progress").empty());
  advance_time(1ms);
  consume_messages();
  std::vector<std::string> expected{
    "Delivery progress: 0/2 pods done (0 delivered, 0 unconfirmed, 0 "
    "failed), 2 in flight, 0 waiting to retry"};
  CHECK_EQUAL(log.take("Delivery progress"), expected);
  for (int second = 4; second <= 18; second += 2) {
    advance_time(2s);
    consume_messages();
    CHECK_EQUAL(log.take("Delivery progress"), expected);
  }
  MESSAGE("at the worker deadline (19.5 s) both are unconfirmed: delivery "
          "ended, and so did its lines");
  advance_time(settings.worker_deadline() - 18s);
  consume_messages();
  CHECK_EQUAL(current_phase(), phase::delivered);
  CHECK_EQUAL(log.take("Delivery finished").size(), 1u);
  advance_time(10s);
  consume_messages();
  CHECK(log.take("Delivery progress").empty());
  MESSAGE("/stop: both /results calls hang on the replacements");
  ask<round_status>(stop_atom_v);
  advance_time(2s);
  consume_messages();
  std::vector<std::string> collecting{
    "Collection progress: 0/2 pods done (0 collected, 0 failed), 2 in "
    "flight, 0 waiting to retry"};
  CHECK_EQUAL(log.take("Collection progress"), collecting);
  for (int second = 4; second <= 18; second += 2) {
    advance_time(2s);
    consume_messages();
    CHECK_EQUAL(log.take("Collection progress"), collecting);
  }
  MESSAGE("their deadline: retried after 100 ms by workers that answer");
  advance_time(settings.worker_deadline() - 18s);
  consume_messages();
  advance_time(100ms);
  consume_messages();
  CHECK_EQUAL(current_phase(), phase::collected);
  MESSAGE("collection ended: no more progress lines");
  advance_time(10s);
  consume_messages();
  CHECK(log.take("Collection progress").empty());
  CHECK(log.take("Delivery progress").empty());
}

FIXTURE_SCOPE_END()
