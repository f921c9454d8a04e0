#define CAF_SUITE pod_worker

#include "actors/pod_worker.hpp"

#include "support/simulated_pod_client.hpp"
#include "support/actor_test.hpp"

using namespace netpol;

namespace {

constexpr auto one_result
  = R"([{"address":"10.9.9.9","port":8080,"connectionidx":0,)"
    R"("npname":"np","timestamp":"2024-10-01T11:18:33.247061614Z"}])";

struct fixture : test_coordinator_fixture<test::test_config> {
  std::shared_ptr<simulated_pod_client> pods
    = std::make_shared<simulated_pod_client>();
  pod_worker_actor worker = sys.spawn(pod_worker, pods);

  ~fixture() override {
    caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
    run();
  }

  template <class Atom>
  caf::expected<pod_outcome> call(Atom atom, std::string ip,
                                  std::string payload = {}) {
    pod_job job{1, 0, std::move(ip), shared_bytes{std::move(payload)}};
    auto handle = self->request(worker, caf::infinite, atom, job);
    run();
    caf::expected<pod_outcome> result = caf::sec::unexpected_response;
    handle.receive([&](pod_outcome& out) { result = std::move(out); },
                   [&](caf::error& err) { result = std::move(err); });
    return result;
  }
};

} // namespace

FIXTURE_SCOPE(pod_worker_tests, fixture)

TEST(deliver hands the pod its list and reports 200) {
  auto out = call(deliver_atom_v, "10.0.0.1", "[]");
  REQUIRE(out);
  CHECK_EQUAL(out->status, call_status::ok);
  CHECK_EQUAL(out->http_status, 200u);
  auto calls = pods->calls();
  REQUIRE_EQUAL(calls.size(), 1u);
  CHECK_EQUAL(calls[0].ip, "10.0.0.1");
  CHECK_EQUAL(calls[0].kind, stage::delivery);
  CHECK_EQUAL(calls[0].payload, "[]");
}

TEST(collect validates the body and counts its entries) {
  pods->set_results("10.0.0.1", one_result);
  auto out = call(collect_atom_v, "10.0.0.1");
  REQUIRE(out);
  CHECK_EQUAL(out->status, call_status::ok);
  CHECK_EQUAL(out->entries, 1u);
  CHECK_EQUAL(out->body.view(), one_result);
}

TEST(collect turns a malformed body into bad_body and keeps none of it) {
  pods->script("10.0.0.1", stage::collection, {sim_answer::bad_json});
  auto out = call(collect_atom_v, "10.0.0.1");
  REQUIRE(out);
  CHECK_EQUAL(out->status, call_status::bad_body);
  CHECK_EQUAL(out->body.size(), 0u);
  CHECK_EQUAL(out->detail.rfind("bad results body: invalid JSON", 0), 0u);
}

TEST(faults of the pod are reported as outcomes) {
  pods->script("10.0.0.1", stage::delivery,
               {sim_answer::refused, sim_answer::http_500});
  auto out = call(deliver_atom_v, "10.0.0.1", "[]");
  REQUIRE(out);
  CHECK_EQUAL(out->status, call_status::refused);
  out = call(deliver_atom_v, "10.0.0.1", "[]");
  REQUIRE(out);
  CHECK_EQUAL(out->status, call_status::http_error);
  CHECK_EQUAL(out->http_status, 500u);
}

TEST(a pod client that throws takes the worker down) {
  pods->script("10.0.0.1", stage::delivery, {sim_answer::crash});
  auto out = call(deliver_atom_v, "10.0.0.1", "[]");
  CHECK(!out);
  CHECK_NOT_EQUAL(out.error(), caf::none);
  auto down = false;
  self->monitor(worker);
  self->receive([&](caf::down_msg&) { down = true; });
  CHECK(down);
}

TEST(confirm only asks netpol-client whether it holds the list sent) {
  auto list = std::string{R"([{"addresses":["10.9.9.9"],"ports":[8080],)"
                          R"("netpol":"np"}])"};
  MESSAGE("it took the very list: held, and nothing is sent");
  pods->answer_status("10.0.0.1");
  pods->post_check("10.0.0.1", list);
  auto out = call(confirm_atom_v, "10.0.0.1", list);
  REQUIRE(out);
  CHECK_EQUAL(out->confirmation, list_confirmation::held);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 1u);
  MESSAGE("it took another list: other_list, and nothing is sent");
  out = call(confirm_atom_v, "10.0.0.1", list + " ");
  REQUIRE(out);
  CHECK_EQUAL(out->confirmation, list_confirmation::other_list);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 1u);
  MESSAGE("it took none: not_taken, and still nothing is sent (sending "
          "it again is the coordinator's call)");
  pods->answer_status("10.0.0.2");
  out = call(confirm_atom_v, "10.0.0.2", list);
  REQUIRE(out);
  CHECK_EQUAL(out->confirmation, list_confirmation::not_taken);
  CHECK_EQUAL(pods->calls_to("10.0.0.2", stage::delivery), 0u);
  CHECK_EQUAL(pods->list_taken("10.0.0.2"), "");
}

TEST(confirm never sends a list to a pod that is not netpol-client) {
  MESSAGE("the real client answers 404: cannot_ask");
  auto out = call(confirm_atom_v, "10.0.0.1", "[]");
  REQUIRE(out);
  CHECK_EQUAL(out->confirmation, list_confirmation::cannot_ask);
  MESSAGE("a 200 that is not netpol-client's JSON: cannot_ask");
  pods->answer_status("10.0.0.2");
  pods->script_status("10.0.0.2", {sim_answer::bad_json});
  out = call(confirm_atom_v, "10.0.0.2", "[]");
  REQUIRE(out);
  CHECK_EQUAL(out->confirmation, list_confirmation::cannot_ask);
  MESSAGE("no answer: none, to ask again");
  pods->script_status("10.0.0.2", {sim_answer::timeout});
  out = call(confirm_atom_v, "10.0.0.2", "[]");
  REQUIRE(out);
  CHECK_EQUAL(out->confirmation, list_confirmation::none);
  CHECK_EQUAL(pods->calls_to("10.0.0.1", stage::delivery), 0u);
  CHECK_EQUAL(pods->calls_to("10.0.0.2", stage::delivery), 0u);
}

FIXTURE_SCOPE_END()
