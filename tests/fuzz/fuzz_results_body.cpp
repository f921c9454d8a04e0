// libFuzzer target for netpol::validate_results_body, the one-pass check of
// a pod's /results body, differential against Go itself: the oracle
// tests/oracle/kube_burner_decode.go decodes each input with kube-burner's
// types and Go's encoding/json and time packages. It runs as a subprocess
// over two pipes (tests/oracle/go_oracle.hpp), started in
// LLVMFuzzerInitialize: the path in the environment variable
// NETPOL_GO_ORACLE (tests/fuzz/run.sh sets it), else the one CMake built
// (NETPOL_GO_ORACLE_PATH).
//
// Invariants (abort if violated):
// - the scanner accepts exactly what Go accepts;
// - on accept, the entries its visitor saw equal Go's: count, order, null
//   elements, each field's value and whether it was set, the timestamp's
//   raw text, Unix seconds and nanoseconds;
// - without a visitor it gives the same verdict and entry count;
// - a refusal has a non-empty error text;
// - an input of at most 64 bytes with no '"', '\\' or control character is
//   also tried as a timestamp, [{"timestamp":"<input>"}]: is_go_rfc3339
//   accepts it exactly when Go's time.Parse does, with Go's seconds and
//   nanoseconds.
#include "actors/results_body.hpp"

#include "fuzz_check.hpp"
#include "go_oracle.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#ifndef NETPOL_GO_ORACLE_PATH
#  define NETPOL_GO_ORACLE_PATH "kube-burner-decode"
#endif

namespace {

netpol::oracle::process* go = nullptr;

netpol::oracle::verdict ask_go(std::string_view body) {
  auto verdict = go->decode(body);
  FUZZ_CHECK(verdict.has_value(), "Go oracle: %s", go->error.c_str());
  return std::move(*verdict);
}

void check_body(std::string_view body) {
  auto theirs = ask_go(body);
  auto mine = netpol::oracle::scan(body);
  auto diff = netpol::oracle::compare(theirs, mine);
  FUZZ_CHECK(diff.empty(), "%s", diff.c_str());
  auto plain = netpol::validate_results_body(body);
  FUZZ_CHECK(plain.ok == mine.accept,
             "with a visitor %d, without %d", mine.accept, plain.ok);
  FUZZ_CHECK(!plain.ok || plain.entries == mine.entries.size(),
             "without a visitor %u entries, with one %zu",
             static_cast<unsigned>(plain.entries), mine.entries.size());
  FUZZ_CHECK(plain.ok || !plain.error.empty(), "refused without an error text");
  FUZZ_CHECK(!plain.ok || plain.error.empty(), "ok with an error text");
}

void check_timestamp(std::string_view text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == '"' || c == '\\')
      return;
  std::string body = "[{\"timestamp\":\"";
  body.append(text);
  body += "\"}]";
  auto theirs = ask_go(body);
  int64_t seconds = 0;
  uint32_t nanos = 0;
  bool mine = netpol::is_go_rfc3339(text, &seconds, &nanos);
  FUZZ_CHECK(mine == theirs.accept,
             "is_go_rfc3339 says %d, Go %d for \"%.*s\" (%s)", mine,
             theirs.accept, static_cast<int>(text.size()), text.data(),
             theirs.error.c_str());
  if (mine) {
    auto& e = theirs.entries.at(0);
    FUZZ_CHECK(e.timestamp_seconds == seconds && e.timestamp_nanos == nanos,
               "\"%.*s\": Go %lld s %u ns, is_go_rfc3339 %lld s %u ns",
               static_cast<int>(text.size()), text.data(),
               static_cast<long long>(e.timestamp_seconds), e.timestamp_nanos,
               static_cast<long long>(seconds), nanos);
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz_limit_stack();
  const char* path = std::getenv("NETPOL_GO_ORACLE");
  if (!path || !*path)
    path = NETPOL_GO_ORACLE_PATH;
  go = new netpol::oracle::process;
  if (!go->start(path)) {
    std::fprintf(stderr, "fuzz_results_body: %s (set NETPOL_GO_ORACLE)\n",
                 go->error.c_str());
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body{reinterpret_cast<const char*>(data), size};
  check_body(body);
  if (size <= 64)
    check_timestamp(body);
  return 0;
}
