// The one parser of duration text, for the proxy's flags
// (http_bridge/options.cpp) and the lab's scenario files and tools
// (tests/podsim/scenario.cpp). Its own library, netpol_duration, with no
// dependencies: the simulated fleet links it without the proxy's libraries.
// Beside it, the two conversions of time the proxy's files share.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace netpol {

/// Parses `500ms`, `10s`, `1m30s`, `1.5s`, `2h`, `0`: one or more numbers,
/// each followed by a unit (ns, us, ms, s, m, h), or a bare `0`. A number is
/// decimal digits with at most one '.' (`.5s` and `1.s` too), at most 32
/// characters. Nothing else: no sign, no spaces, no unit-less number but
/// `0` (`10` is ambiguous). The total is rounded to the nearest nanosecond
/// (half up) and must be at most a year (365 days). Exact: integer
/// arithmetic, no floating point; never throws.
///
/// (caf::timespan is std::chrono::nanoseconds, so the flags take the result
/// as it is.)
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

/// The longest duration parse_duration accepts.
inline constexpr std::chrono::nanoseconds max_parsed_duration
  = std::chrono::hours{365 * 24};

/// A duration in seconds, as logs, /status and /metrics give it.
inline double seconds(std::chrono::nanoseconds x) {
  return std::chrono::duration<double>(x).count();
}

/// The real-time clock now, in milliseconds since the Unix epoch: how the
/// round's times are stored and reported.
inline int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace netpol
