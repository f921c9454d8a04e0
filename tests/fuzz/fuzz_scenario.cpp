// libFuzzer target for podsim::parse_scenario (tests/podsim/scenario.hpp), the
// fault-injection lab's scenario-file parser.
//
// Invariants (abort if violated):
// - it returns a scenario or throws scenario_error, never anything else;
// - a scenario_error has a message and a 1-based line and column;
// - an accepted scenario is in range: 1..16M pods, faulty pods (resolved)
//   within the fleet, each group with exactly one of count / fraction,
//   durations not negative, backoff_cap >= backoff_base, timeouts > 0.
// Inputs naming more than 100000 pods are skipped: validating first_address
// builds the fleet's whole address list (16M addresses take ~1 GB and
// seconds), which is the parser's design, not a finding.
#include "podsim/scenario.hpp"

#include "fuzz_check.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>
#include <typeinfo>

namespace {

using json = nlohmann::json;

bool too_many_pods(std::string_view text) {
  auto doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (!doc.is_object())
    return false;
  auto fleet = doc.find("fleet");
  if (fleet == doc.end() || !fleet->is_object())
    return false;
  auto pods = fleet->find("pods");
  return pods != fleet->end() && pods->is_number_unsigned()
         && pods->get<uint64_t>() > 100'000;
}

void check(const podsim::scenario& s) {
  FUZZ_CHECK(s.pods >= 1 && s.pods <= 16'000'000, "pods %zu", s.pods);
  FUZZ_CHECK(!s.name.empty(), "empty name");
  FUZZ_CHECK(s.latency.count() >= 0 && s.jitter.count() >= 0,
             "negative fleet latency or jitter");
  size_t faulty = 0;
  for (auto& g : s.faults) {
    FUZZ_CHECK(g.count.has_value() != g.fraction.has_value(),
               "a group needs exactly one of count and fraction");
    if (g.fraction)
      FUZZ_CHECK(*g.fraction >= 0 && *g.fraction <= 1, "fraction %g",
                 *g.fraction);
    FUZZ_CHECK(g.failures >= 0, "negative failures");
    FUZZ_CHECK(g.delay.count() >= 0, "negative delay");
    FUZZ_CHECK(!g.latency || g.latency->count() >= 0, "negative latency");
    FUZZ_CHECK(!g.jitter || g.jitter->count() >= 0, "negative jitter");
    faulty += g.pods;
  }
  FUZZ_CHECK(faulty <= s.pods, "%zu faulty pods in a fleet of %zu", faulty,
             s.pods);
  auto& p = s.proxy;
  FUZZ_CHECK(p.connect_timeout.count() > 0 && p.request_timeout.count() > 0,
             "timeouts must be positive");
  FUZZ_CHECK(p.backoff_base.count() >= 0 && p.backoff_cap >= p.backoff_base,
             "backoff out of order");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz_limit_stack();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  if (too_many_pods(text))
    return -1; // keep such inputs out of the corpus
  try {
    check(podsim::parse_scenario(text, "fuzz"));
  } catch (const podsim::scenario_error& e) {
    FUZZ_CHECK(e.what()[0] != '\0', "scenario_error without a message");
    FUZZ_CHECK(e.line() >= 1 && e.column() >= 1,
               "scenario_error at line %zu column %zu: %s", e.line(),
               e.column(), e.what());
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, "threw %s: %s", typeid(e).name(), e.what());
  }
  return 0;
}
