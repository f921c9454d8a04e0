// libFuzzer target for the flag parsers: parse_duration (messages/duration.hpp,
// the one duration parser, which the lab's scenarios use too), and
// parse_size and parse_listen_address (messages/flags.hpp, shared by the
// proxy's flags and netpol-client's).
//
// Invariants (abort if violated):
// - none of them throws, whatever the text (parse_size and
//   parse_listen_address call std::stoull and std::stoul, which throw
//   std::invalid_argument / std::out_of_range; parse_duration once called
//   std::stold);
// - a duration is non-negative, at most a year, reads back the same from
//   its nanosecond count written as "<n>ns", and is unchanged by a "0ns"
//   appended;
// - a size is at most 2^50 and reads back the same from its byte count
//   (when that count has at most 15 digits, the parser's limit);
// - a listen address has a non-empty host; its port is the decimal text
//   after the last ':'.
#include "messages/duration.hpp"
#include "messages/flags.hpp"

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <typeinfo>
#include <string>
#include <string_view>

namespace {

constexpr int64_t year_ns = 365LL * 24 * 3600 * 1'000'000'000LL;

template <class F>
auto no_throw(const char* what, std::string_view text, F f) {
  try {
    return f();
  } catch (const std::exception& ex) {
    FUZZ_CHECK(false, "%s threw %s (%s) on %zu bytes", what, ex.what(),
               typeid(ex).name(), text.size());
  } catch (...) {
    FUZZ_CHECK(false, "%s threw a non-standard exception", what);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};

  auto duration = no_throw("parse_duration", text,
                           [&] { return netpol::parse_duration(text); });
  if (duration) {
    auto ns = duration->count();
    FUZZ_CHECK(ns >= 0, "negative duration %lld", static_cast<long long>(ns));
    FUZZ_CHECK(ns <= year_ns, "duration over a year");
    auto again = netpol::parse_duration(std::to_string(ns) + "ns");
    FUZZ_CHECK(again && *again == *duration,
               "%lldns does not read back the same",
               static_cast<long long>(ns));
    auto plus_zero = netpol::parse_duration(std::string{text} + "0ns");
    FUZZ_CHECK(plus_zero && *plus_zero == *duration,
               "appending 0ns changes %lldns", static_cast<long long>(ns));
  }

  auto bytes = no_throw("parse_size", text,
                        [&] { return netpol::parse_size(text); });
  if (bytes) {
    FUZZ_CHECK(*bytes <= (uint64_t{1} << 50), "size over 2^50");
    if (*bytes < 1'000'000'000'000'000ull) {
      auto again = netpol::parse_size(std::to_string(*bytes));
      FUZZ_CHECK(again && *again == *bytes, "%llu does not read back",
                 static_cast<unsigned long long>(*bytes));
    }
  }

  auto listen = no_throw("parse_listen_address", text, [&] {
    return netpol::parse_listen_address(text);
  });
  if (listen) {
    FUZZ_CHECK(!listen->first.empty(), "empty host");
    auto port_text = text.substr(text.rfind(':') + 1);
    FUZZ_CHECK(std::to_string(listen->second) == port_text
                 || std::stoul(std::string{port_text}) == listen->second,
               "port %u is not the text after the last ':'",
               static_cast<unsigned>(listen->second));
  }
  return 0;
}
