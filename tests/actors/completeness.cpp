#define CAF_SUITE completeness

#include "actors/completeness.hpp"

#include "actors/results_body.hpp"
#include "support/test.hpp"

using namespace netpol;

namespace {

/// Two pods' lists as /initiate would give them: pod 0 tests np-a with two
/// addresses on one port, then np-b on two ports; pod 1 tests np-a once.
struct two_pods {
  expected_tests_builder builder;
  shared_bytes pod0;
  shared_bytes pod1;
  uint32_t tests0 = 0;
  uint32_t tests1 = 0;
  round_catalog_ptr catalog;

  two_pods() {
    builder.begin_pod();
    builder.add_connection("np-a", {"10.0.0.1", "10.0.0.2"}, {8080});
    builder.add_connection("np-b", {"10.0.0.3"}, {8080, 9090});
    pod0 = builder.end_pod(tests0);
    builder.begin_pod();
    builder.add_connection("np-a", {"10.0.0.1", "10.0.0.1"}, {8080, 8080});
    pod1 = builder.end_pod(tests1);
    catalog = builder.finish();
  }
};

results_entry entry(int64_t idx, std::string_view address, int32_t port,
                    std::string_view npname, std::string_view timestamp,
                    int64_t seconds) {
  results_entry e;
  e.connectionidx = idx;
  e.address = address;
  e.port = port;
  e.npname = npname;
  e.timestamp = timestamp;
  e.has_timestamp = !timestamp.empty();
  e.timestamp_seconds = seconds;
  return e;
}

} // namespace

TEST(expected tests pack each pod list compactly and unpack in order) {
  two_pods plan;
  CHECK_EQUAL(plan.tests0, 4u);
  MESSAGE("a repeated address or port is one test");
  CHECK_EQUAL(plan.tests1, 1u);
  CHECK_EQUAL(plan.catalog->netpols.size(), 2u);
  CHECK_EQUAL(plan.catalog->addresses.size(), 3u);
  CHECK_EQUAL(plan.catalog->netpol_tests[0], 3u); // np-a: 2 + 1
  CHECK_EQUAL(plan.catalog->netpol_tests[1], 2u);
  CHECK_EQUAL(plan.catalog->netpol_pods[0], 2u);
  CHECK_EQUAL(plan.catalog->netpol_pods[1], 1u);
  expected_view view{plan.pod0.view()};
  REQUIRE_EQUAL(view.connections().size(), 2u);
  CHECK_EQUAL(view.tests(), 4u);
  auto& second = view.connections()[1];
  CHECK_EQUAL(plan.catalog->netpols[second.netpol], "np-b");
  CHECK_EQUAL(second.first_test, 2u);
  REQUIRE_EQUAL(second.ports.size(), 2u);
  CHECK_EQUAL(second.ports[1], 9090u);
  MESSAGE("a few bytes per connection, not the JSON");
  CHECK_LESS_OR_EQUAL(plan.pod0.size(), 16u);
}

TEST(a pod that reports every test once is complete) {
  two_pods plan;
  pod_matcher m{*plan.catalog, plan.pod0.view()};
  m.add(entry(0, "10.0.0.1", 8080, "np-a", "2024-10-01T11:18:33.2Z", 100));
  m.add(entry(0, "10.0.0.2", 8080, "np-a", "2024-10-01T11:18:34.5Z", 101));
  m.add(entry(1, "10.0.0.3", 8080, "np-b", "2024-10-01T11:18:35Z", 102));
  m.add(entry(1, "10.0.0.3", 9090, "np-b", "2024-10-01T11:18:35Z", 102));
  auto account = m.finish();
  CHECK_EQUAL(account.expected, 4u);
  CHECK_EQUAL(account.reported, 4u);
  CHECK_EQUAL(account.missing, 0u);
  CHECK_EQUAL(account.duplicates, 0u);
  CHECK_EQUAL(account.unexpected, 0u);
  REQUIRE_EQUAL(account.netpols.size(), 2u);
  CHECK_EQUAL(account.netpols[0].first.text, "2024-10-01T11:18:33.2Z");
  CHECK_EQUAL(account.netpols[0].last.text, "2024-10-01T11:18:34.5Z");
  MESSAGE("first successes per second, for the enforcement curve");
  REQUIRE_EQUAL(account.second_keys.size(), 3u);
  CHECK_EQUAL(account.second_counts[2], 2u);
}

TEST(missing duplicate and unexpected entries are told apart) {
  two_pods plan;
  pod_matcher m{*plan.catalog, plan.pod0.view()};
  m.add(entry(0, "10.0.0.1", 8080, "np-a", "2024-10-01T11:18:33Z", 100));
  MESSAGE("the same test again (a pod sent /check twice): a duplicate");
  m.add(entry(0, "10.0.0.1", 8080, "np-a", "2024-10-01T11:18:39Z", 106));
  MESSAGE("wrong index, address, port, netpol: unexpected");
  m.add(entry(7, "10.0.0.1", 8080, "np-a", "", 0));
  m.add(entry(-1, "10.0.0.1", 8080, "np-a", "", 0));
  m.add(entry(0, "10.0.0.3", 8080, "np-a", "", 0));
  m.add(entry(0, "10.0.0.1", 9090, "np-a", "", 0));
  m.add(entry(0, "10.0.0.1", 8080, "np-b", "", 0));
  MESSAGE("a null entry is Go's zero connTest: unexpected");
  m.add(results_entry{});
  auto account = m.finish();
  CHECK_EQUAL(account.reported, 1u);
  CHECK_EQUAL(account.missing, 3u);
  CHECK_EQUAL(account.duplicates, 1u);
  CHECK_EQUAL(account.unexpected, 6u);
  MESSAGE("repeats count for the spread kube-burner will see");
  CHECK_EQUAL(account.netpols[0].last.text, "2024-10-01T11:18:39Z");
  REQUIRE_EQUAL(account.second_keys.size(), 1u);
  CHECK_EQUAL(account.second_counts[0], 1u);
}

TEST(the round adds pods up and counts what it never saw as unknown) {
  two_pods plan;
  round_completeness round{plan.catalog};
  auto totals = round.totals();
  CHECK_EQUAL(totals.expected, 5u);
  CHECK_EQUAL(totals.unknown, 5u);
  CHECK_EQUAL(totals.netpols_incomplete, 2u);
  MESSAGE("pod 0 reports np-a only");
  pod_matcher m0{*plan.catalog, plan.pod0.view()};
  m0.add(entry(0, "10.0.0.1", 8080, "np-a", "2024-10-01T11:18:33Z", 100));
  m0.add(entry(0, "10.0.0.2", 8080, "np-a", "2024-10-01T11:18:40Z", 107));
  round.add_pod(0, m0.finish(), true);
  totals = round.totals();
  CHECK_EQUAL(totals.reported, 2u);
  CHECK_EQUAL(totals.missing, 2u);
  CHECK_EQUAL(totals.unknown, 1u); // pod 1, not collected yet
  CHECK_EQUAL(totals.netpols_missing, 1u);
  auto& np_b = round.netpols()[1];
  CHECK_EQUAL(np_b.missing, 2u);
  CHECK_EQUAL(np_b.pods_missing, 1u);
  REQUIRE_EQUAL(np_b.sample_pods.size(), 1u);
  CHECK_EQUAL(np_b.sample_pods[0], 0u);
  MESSAGE("worst first: np-b misses two");
  auto worst = round.worst_netpols();
  REQUIRE_EQUAL(worst.size(), 2u);
  CHECK_EQUAL(worst[0], 1u);
  CHECK_EQUAL(worst[1], 0u);
  MESSAGE("asked for the worst one only, the same one");
  auto first = round.worst_netpols(1);
  REQUIRE_EQUAL(first.size(), 1u);
  CHECK_EQUAL(first[0], 1u);
  MESSAGE("pod 1 never took its list: its silence is unknown, not missing");
  pod_matcher m1{*plan.catalog, plan.pod1.view()};
  round.add_pod(1, m1.finish(), false);
  totals = round.totals();
  CHECK_EQUAL(totals.missing, 2u);
  CHECK_EQUAL(totals.unknown, 1u);
  CHECK_EQUAL(round.unknown(0), 1u);
  MESSAGE("np-a's spread runs from its first to its last success");
  CHECK_EQUAL(round.netpols()[0].first.text, "2024-10-01T11:18:33Z");
  CHECK_EQUAL(round.netpols()[0].last.text, "2024-10-01T11:18:40Z");
}

TEST(the enforcement curve is cumulative from the earliest success) {
  two_pods plan;
  round_completeness round{plan.catalog};
  pod_matcher m{*plan.catalog, plan.pod0.view()};
  m.add(entry(0, "10.0.0.1", 8080, "np-a", "2024-10-01T11:18:30Z", 100));
  m.add(entry(0, "10.0.0.2", 8080, "np-a", "2024-10-01T11:18:32Z", 102));
  m.add(entry(1, "10.0.0.3", 8080, "np-b", "2024-10-01T11:18:32Z", 102));
  m.add(entry(1, "10.0.0.3", 9090, "np-b", "2024-10-01T11:18:35Z", 105));
  round.add_pod(0, m.finish(), true);
  auto curve = round.curve();
  CHECK_EQUAL(curve.start.text, "2024-10-01T11:18:30Z");
  CHECK_EQUAL(curve.bucket_seconds, 1u);
  REQUIRE_EQUAL(curve.succeeded.size(), 6u);
  CHECK_EQUAL(curve.succeeded[0], 1u);
  CHECK_EQUAL(curve.succeeded[1], 1u);
  CHECK_EQUAL(curve.succeeded[2], 3u);
  CHECK_EQUAL(curve.succeeded[5], 4u);
  MESSAGE("a long window is drawn in wider buckets");
  auto coarse = round.curve(2);
  CHECK_EQUAL(coarse.bucket_seconds, 3u);
  REQUIRE_EQUAL(coarse.succeeded.size(), 2u);
  CHECK_EQUAL(coarse.succeeded[1], 4u);
}
