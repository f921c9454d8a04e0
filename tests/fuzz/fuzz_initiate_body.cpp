// libFuzzer target for netpol::parse_initiate_body, the /initiate validator.
//
// Besides ASan/UBSan findings, aborts when an invariant fails:
// - on success: every pod IP passes is_ip_address, IPs are unique, the body
//   re-parses as an object with exactly those keys, each pod's re-encoded
//   `connections` parses as an array of `connection_count` valid connection
//   objects equal to the body's array for that IP;
// - on failure: the error is bad_input or too_large and has a non-empty
//   detail;
// - the max_pods limit: the same body with a small limit succeeds with the
//   same plan when it has few enough pods and fails with too_large otherwise.
#include "http_bridge/initiate_body.hpp"
#include "messages/error.hpp"

#include "fuzz_check.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_set>

namespace {

using json = nlohmann::json;

constexpr size_t small_limit = 3;

bool valid_connection(const json& conn) {
  if (!conn.is_object())
    return false;
  auto a = conn.find("addresses");
  if (a == conn.end() || !a->is_array())
    return false;
  for (auto& x : *a)
    if (!x.is_string())
      return false;
  auto p = conn.find("ports");
  if (p == conn.end() || !p->is_array())
    return false;
  for (auto& x : *p)
    if (!x.is_number_integer() || x.get<int64_t>() < 1
        || x.get<int64_t>() > 65535)
      return false;
  auto n = conn.find("netpol");
  return n != conn.end() && n->is_string();
}

void check_failure(const caf::error& err) {
  auto code = netpol::code_of(err);
  FUZZ_CHECK(code == netpol::errc::bad_input
               || code == netpol::errc::too_large,
             "unexpected error code %d", static_cast<int>(code));
  FUZZ_CHECK(!netpol::detail_of(err).empty(), "error without detail");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz_limit_stack();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body{reinterpret_cast<const char*>(data), size};
  auto plan = netpol::parse_initiate_body(body,
                                          std::numeric_limits<size_t>::max());
  auto limited = netpol::parse_initiate_body(body, small_limit);
  if (!plan) {
    check_failure(plan.error());
    FUZZ_CHECK(netpol::code_of(plan.error()) == netpol::errc::bad_input,
               "too_large without a pod limit");
    // A smaller limit can only change which error is reported.
    FUZZ_CHECK(!limited, "accepted with limit %zu, refused without",
               small_limit);
    check_failure(limited.error());
    return 0;
  }
  json doc = json::parse(body.begin(), body.end()); // must not throw
  FUZZ_CHECK(doc.is_object(), "accepted a non-object");
  FUZZ_CHECK(doc.size() == plan->pods.size(), "%zu keys but %zu pods",
             doc.size(), plan->pods.size());
  std::unordered_set<std::string> seen;
  for (auto& pod : plan->pods) {
    FUZZ_CHECK(netpol::is_ip_address(pod.ip), "pod IP is not an IP address");
    FUZZ_CHECK(seen.insert(pod.ip).second, "pod IP appears twice");
    auto sent = json::parse(pod.connections.view(), nullptr, false);
    FUZZ_CHECK(!sent.is_discarded(), "re-encoded connections do not parse");
    FUZZ_CHECK(sent.is_array(), "re-encoded connections are not an array");
    FUZZ_CHECK(sent.size() == pod.connection_count,
               "connection_count %u but %zu connections",
               static_cast<unsigned>(pod.connection_count), sent.size());
    for (auto& conn : sent)
      FUZZ_CHECK(valid_connection(conn), "accepted an invalid connection");
    auto original = doc.find(pod.ip);
    FUZZ_CHECK(original != doc.end(), "pod IP not a key of the body");
    FUZZ_CHECK(*original == sent, "re-encoded connections differ");
  }
  if (plan->pods.size() > small_limit) {
    FUZZ_CHECK(!limited, "%zu pods accepted with limit %zu",
               plan->pods.size(), small_limit);
    check_failure(limited.error());
    FUZZ_CHECK(netpol::code_of(limited.error()) == netpol::errc::too_large,
               "over the limit but not too_large");
  } else {
    FUZZ_CHECK(limited, "refused with a limit it does not exceed");
    FUZZ_CHECK(limited->pods.size() == plan->pods.size(), "plans differ");
    for (size_t i = 0; i < plan->pods.size(); ++i)
      FUZZ_CHECK(limited->pods[i].ip == plan->pods[i].ip
                   && limited->pods[i].connections
                        == plan->pods[i].connections,
                 "plans differ at pod %zu", i);
  }
  return 0;
}
