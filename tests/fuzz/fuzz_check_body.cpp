// libFuzzer target for netpol::client::parse_check_body, netpol-client's
// /check body parser, differential against Go itself: the oracle
// tests/oracle/netpolvalidator_codec.go decodes each input into the real
// client's []connection with Go's encoding/json and expands it into tests.
// It runs as a subprocess over two pipes (tests/oracle/client_oracle.hpp,
// shared with the ctest client_go_oracle), started in LLVMFuzzerInitialize:
// the path in the environment variable NETPOL_GO_CLIENT_ORACLE
// (tests/fuzz/run.sh sets it), else the one CMake built
// (NETPOL_GO_CLIENT_ORACLE_PATH).
//
// Invariants (abort if violated):
// - what Go refuses, we refuse, with a non-empty error text;
// - what Go takes, we take with the same connection count and the same
//   tests in the same order (address, port, connectionidx, netpol), unless
//   it is in a category parse_check_body documents as stricter: a port
//   outside 1-65535 or an address neither IP nor host name anywhere in Go's
//   list (a UTF-8 body must then be refused for that value, not while
//   decoding), or a body that is not UTF-8;
// - what we take has no such value in Go's list either;
// - on accept: every test's target index is valid and the target has the
//   test's address and port; each target lists its tests in increasing
//   order, and every test is listed exactly once, by its own target;
//   targets are distinct address + port pairs, in the order of their first
//   test; ports are in 1-65535, addresses are IP literals or host names,
//   connection indexes ascend and stay below the connection count.
#include "client/check_list.hpp"

#include "client_oracle.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <limits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#ifndef NETPOL_GO_CLIENT_ORACLE_PATH
#  define NETPOL_GO_CLIENT_ORACLE_PATH "netpolvalidator-codec"
#endif

namespace {

using namespace netpol::client;
namespace oracle = netpol::client_oracle;

oracle::codec* go = nullptr;

void check_against_go(std::string_view body, const check_parse& mine) {
  auto theirs = oracle::decode(*go, body);
  FUZZ_CHECK(theirs.has_value(), "Go oracle: %s", go->error.c_str());
  std::string why;
  auto got = oracle::compare(*theirs, mine, body, why);
  FUZZ_CHECK(got != oracle::outcome::differs, "%s", why.c_str());
}

void check_tests(const check_list& list) {
  int64_t last_connection = 0;
  for (size_t i = 0; i < list.tests.size(); ++i) {
    auto& t = list.tests[i];
    FUZZ_CHECK(t.target < list.targets.size(),
               "test %zu: target %zu of %zu", i, t.target,
               list.targets.size());
    auto& target = list.targets[t.target];
    FUZZ_CHECK(target.address == t.address && target.port == t.port,
               "test %zu {%s %u} in target %zu {%s %u}", i,
               oracle::printable(t.address).c_str(), t.port, t.target,
               oracle::printable(target.address).c_str(), target.port);
    FUZZ_CHECK(t.port != 0, "test %zu: port 0", i);
    FUZZ_CHECK(is_ip_literal(t.address) || is_host_name(t.address),
               "test %zu: untestable address \"%s\"", i,
               oracle::printable(t.address).c_str());
    FUZZ_CHECK(t.connection_index >= last_connection
                 && static_cast<uint64_t>(t.connection_index)
                      < list.connections,
               "test %zu: connection %lld after %lld, of %zu", i,
               static_cast<long long>(t.connection_index),
               static_cast<long long>(last_connection), list.connections);
    last_connection = t.connection_index;
  }
}

void check_targets(const check_list& list) {
  std::set<std::pair<std::string, uint16_t>> seen;
  size_t listed = 0, last_first = 0;
  for (size_t ti = 0; ti < list.targets.size(); ++ti) {
    auto& target = list.targets[ti];
    FUZZ_CHECK(seen.emplace(target.address, target.port).second,
               "target %zu {%s %u} repeats an earlier one", ti,
               oracle::printable(target.address).c_str(), target.port);
    FUZZ_CHECK(target.port != 0, "target %zu: port 0", ti);
    FUZZ_CHECK(!target.tests.empty(), "target %zu has no tests", ti);
    FUZZ_CHECK(ti == 0 || target.tests[0] > last_first,
               "target %zu's first test %zu is not after target %zu's (%zu)",
               ti, target.tests[0], ti - 1, last_first);
    last_first = target.tests[0];
    for (size_t k = 0; k < target.tests.size(); ++k) {
      size_t i = target.tests[k];
      FUZZ_CHECK(i < list.tests.size() && list.tests[i].target == ti,
                 "target %zu lists test %zu, not one of its own", ti, i);
      FUZZ_CHECK(k == 0 || i > target.tests[k - 1],
                 "target %zu's tests out of order at %zu", ti, k);
    }
    listed += target.tests.size();
  }
  // Each list ascends and names only the target's own tests: no test is
  // listed twice, so the count says each is listed once.
  FUZZ_CHECK(listed == list.tests.size(), "targets list %zu tests of %zu",
             listed, list.tests.size());
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz_limit_stack();
  const char* path = std::getenv("NETPOL_GO_CLIENT_ORACLE");
  if (!path || !*path)
    path = NETPOL_GO_CLIENT_ORACLE_PATH;
  go = new oracle::codec;
  if (!go->start(path)) {
    std::fprintf(stderr, "fuzz_check_body: %s (set NETPOL_GO_CLIENT_ORACLE)\n",
                 go->error.c_str());
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body{reinterpret_cast<const char*>(data), size};
  // No cap on tests: only the decoding is compared with Go's.
  auto mine = parse_check_body(body, std::numeric_limits<size_t>::max());
  FUZZ_CHECK(mine.list.has_value() == mine.error.empty(),
             "list %d with error text \"%s\"", mine.list.has_value(),
             oracle::printable(mine.error).c_str());
  check_against_go(body, mine);
  if (mine.list) {
    check_tests(*mine.list);
    check_targets(*mine.list);
  }
  return 0;
}
