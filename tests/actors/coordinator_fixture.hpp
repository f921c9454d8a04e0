// The coordinator under CAF's test coordinator, with simulated pods (and,
// for the restore suite, an in-memory round store): shared by the
// coordinator, round_store and sampler suites.
#pragma once

#include "actors/coordinator.hpp"

#include "actors/pod_worker.hpp"
#include "actors/round_book.hpp"
#include "messages/error.hpp"
#include "support/actor_test.hpp"
#include "support/memory_round_store.hpp"
#include "support/simulated_pod_client.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace netpol::test {

using namespace std::chrono_literals;


using coordinator_type = std::remove_pointer_t<
  coordinator_actor::stateful_pointer<coordinator_state>>;

struct hung_worker_state {
  static inline const char* name = "hung_worker";
  std::vector<caf::typed_response_promise<pod_outcome>> pending;
};

/// A worker whose pod call never returns: only the coordinator's deadline
/// can end its job. Counts the jobs it swallowed. (It takes an argument also
/// because CAF 0.17.6 dereferences a null tuple pointer when an actor is
/// spawned without any, which UBSan rightly reports.)
inline pod_worker_actor::behavior_type
hung_worker(pod_worker_actor::stateful_pointer<hung_worker_state> self,
            std::shared_ptr<size_t> swallowed) {
  auto hang = [self, swallowed] {
    ++*swallowed;
    auto promise = self->make_response_promise<pod_outcome>();
    self->state.pending.push_back(promise);
    return promise;
  };
  return {
    [hang](deliver_atom, const pod_job&) { return hang(); },
    [hang](collect_atom, const pod_job&) { return hang(); },
    [hang](confirm_atom, const pod_job&) { return hang(); },
  };
}

inline std::string connections_of(const std::string& ip) {
  return R"([{"addresses":["10.9.9.9"],"ports":[8080],"netpol":"np-)" + ip
         + R"("}])";
}

/// What a healthy client pod at `ip` reports: one connTest, nine digits.
inline std::string results_of(const std::string& ip) {
  return R"([{"address":"10.9.9.9","port":8080,"connectionidx":0,)"
         R"("npname":"np-)"
         + ip + R"(","timestamp":"2024-10-01T11:18:33.247061614Z"}])";
}

/// What a client pod at `ip` reports after `n` successes of its one test:
/// the first, then the same test again (each a later timestamp), as a pod
/// that was sent its list twice would. Each answer is a prefix of the next.
inline std::string entries_of(const std::string& ip, int n) {
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0)
      body += ",";
    body += R"({"address":"10.9.9.9","port":8080,"connectionidx":0,)"
            R"("npname":"np-)"
            + ip + R"(","timestamp":"2024-10-01T11:18:3)" + std::to_string(i)
            + R"(.247061614Z"})";
  }
  return body + "]\n";
}

/// The plan /initiate would give for these pods: each tests np-<ip> at
/// 10.9.9.9:8080, as connections_of says.
inline round_plan make_plan(const std::vector<std::string>& ips) {
  round_plan plan;
  expected_tests_builder tests;
  for (auto& ip : ips) {
    tests.begin_pod();
    tests.add_connection("np-" + ip, {"10.9.9.9"}, {8080});
    pod_plan pod{ip, shared_bytes{connections_of(ip)}, 1};
    pod.expected = tests.end_pod(pod.tests);
    plan.pods.push_back(std::move(pod));
    // Another list, another digest.
    plan.digest = plan.digest * 31 + std::hash<std::string>{}(ip);
  }
  plan.catalog.ptr = tests.finish();
  return plan;
}

inline std::vector<std::string> ips(size_t count) {
  std::vector<std::string> result;
  for (size_t i = 1; i <= count; ++i)
    result.push_back("10.0.0." + std::to_string(i));
  return result;
}

struct coordinator_fixture : test_coordinator_fixture<test::test_config> {
  std::shared_ptr<simulated_pod_client> pods
    = std::make_shared<simulated_pod_client>();
  std::vector<pod_worker_actor> spawned;
  proxy_settings settings;
  coordinator_actor coord;
  size_t hung_spawns = 0; // the first N workers spawned hang
  std::set<size_t> hung_at; // and so do these (0: the first spawned)
  std::shared_ptr<size_t> swallowed = std::make_shared<size_t>(0);

  coordinator_fixture() {
    settings.retries = 2; // three attempts per stage
    settings.backoff_base = 100ms;
    settings.backoff_cap = 250ms;
    // The progress timer's message would come between the messages the
    // stories expect; its own story sets the interval it reads.
    settings.progress_interval = 1h;
    // Sampling's own calls would come between them too: the suites that
    // sample set their interval.
    settings.sample_interval = 0s;
  }

  ~coordinator_fixture() override {
    if (coord)
      caf::anon_send_exit(coord, caf::exit_reason::user_shutdown);
    run();
  }

  /// The round store the coordinator keeps its round in, if any.
  std::shared_ptr<memory_round_store> store;

  void start(uint32_t workers) {
    settings.workers = workers;
    if (store) {
      coord = sys.spawn(persistent_coordinator, settings,
                        worker_factory{[this](caf::actor_system& sys) {
                          return spawn_worker(sys);
                        }},
                        round_store_ptr{store}, std::string{"on: memory"});
      consume_messages();
      return;
    }
    coord = sys.spawn(coordinator, settings, [this](caf::actor_system& sys) {
      return spawn_worker(sys);
    });
    consume_messages();
  }

  pod_worker_actor spawn_worker(caf::actor_system& sys) {
    auto hangs = spawned.size() < hung_spawns
                 || hung_at.count(spawned.size()) > 0;
    auto worker = hangs ? sys.spawn(hung_worker, swallowed)
                    : sys.spawn(pod_worker, pods);
    spawned.push_back(worker);
    return worker;
  }

  /// Stops the coordinator as a crash would: what it did not commit is
  /// lost; its workers go with it.
  void crash() {
    caf::anon_send_exit(coord, caf::exit_reason::kill);
    run();
    coord = nullptr;
  }

  // -- named accessors: what a test may read of the coordinator besides its
  // answers. Only these know coordinator_state's layout.

  phase current_phase() {
    return state().meta.current;
  }

  uint64_t round_number() {
    return state().meta.round;
  }

  uint32_t count(pod_state x) {
    return state().progress.counts[slot(x)];
  }

  size_t pod_count() {
    return state().progress.pods.size();
  }

  size_t idle_workers() {
    return state().pool.idle.size();
  }

  /// Workers with a pod call out.
  size_t busy_workers() {
    return state().pool.busy.size();
  }

  size_t worker_restarts() {
    return state().pool.restarts;
  }

  /// The sampler, once the first sweep spawned it.
  sampler_actor sampler() {
    return state().sampler;
  }

  /// Calls of superseded rounds still out.
  size_t stale_calls() {
    return state().pool.outside_calls.size();
  }

  /// Pods of this round waiting for a superseded round's call to them.
  size_t deferred_pods() {
    return state().pool.deferred.size();
  }

  bool deferred(const std::string& ip) {
    return state().pool.deferred.count(ip) > 0;
  }

  /// A commit_atom is on its way (round_journal::commit_soon).
  bool commit_due() {
    return state().journal.commit_due();
  }

  /// Sends a request to the coordinator, lets every actor work (no timers
  /// fire), and returns the reply.
  template <class T, class... Ts>
  T ask(Ts&&... xs) {
    auto handle = self->request(coord, caf::infinite, std::forward<Ts>(xs)...);
    consume_messages();
    T result;
    handle.receive([&](T& value) { result = std::move(value); },
                   [&](caf::error& err) {
                     CAF_FAIL("unexpected error: " << sys.render(err));
                   });
    return result;
  }

  /// Like ask, for requests that must fail.
  template <class T, class... Ts>
  caf::error ask_error(Ts&&... xs) {
    auto handle = self->request(coord, caf::infinite, std::forward<Ts>(xs)...);
    consume_messages();
    caf::error result;
    handle.receive([&](T&) { CAF_FAIL("expected an error"); },
                   [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  round_status initiate(size_t pod_count) {
    return ask<round_status>(initiate_atom_v, make_plan(ips(pod_count)));
  }

  round_status poll() {
    return ask<round_status>(poll_atom_v);
  }

  // -- sampling during the job (sampler and round_store suites) ---------------

  /// Calls to the pod's /results: the sampler's and collection's.
  size_t results_calls(const std::string& ip) {
    return pods->calls_to(ip, stage::collection);
  }

  sampling_totals sampling() {
    return ask<status_report>(status_atom_v, false).sampling;
  }

  pod_detail detail(const std::string& ip) {
    for (auto& pod : ask<status_report>(status_atom_v, true).pods)
      if (pod.ip == ip)
        return pod;
    CAF_FAIL("no pod " << ip);
  }

  std::string served_results(const std::string& ip) {
    for (auto& pod : ask<results_snapshot>(results_atom_v).pods)
      if (pod.ip == ip)
        return std::string{pod.body.view()};
    return "(not in /results)";
  }

  /// The next sweep: the interval passes, and every answer is in.
  void next_sweep() {
    advance_time(settings.sample_interval);
    consume_messages();
  }

  pod_record& pod(const std::string& ip) {
    for (auto& record : state().progress.pods)
      if (record.ip == ip)
        return record;
    CAF_FAIL("no pod " << ip);
  }

private:
  coordinator_state& state() {
    return deref<coordinator_type>(coord).state;
  }
};


} // namespace netpol::test
