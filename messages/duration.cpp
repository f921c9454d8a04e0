#include "messages/duration.hpp"

#include <cstdint>

namespace netpol {

namespace {

using u128 = unsigned __int128;

/// Fractional digits that count; later ones are dropped. 10^18 fits in 64
/// bits, and a year in units of 10^-18 ns (3.2e34) in 128.
constexpr int fraction_digits = 18;
constexpr uint64_t fraction_scale = 1'000'000'000'000'000'000ull; // 10^18
constexpr size_t max_number_length = 32;

constexpr uint64_t year_ns = static_cast<uint64_t>(
  std::chrono::nanoseconds{max_parsed_duration}.count());

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// Nanoseconds per `unit`, or 0 for no unit we take.
uint64_t unit_ns(std::string_view unit) {
  if (unit == "ns")
    return 1;
  if (unit == "us")
    return 1'000;
  if (unit == "ms")
    return 1'000'000;
  if (unit == "s")
    return 1'000'000'000;
  if (unit == "m")
    return 60'000'000'000;
  if (unit == "h")
    return 3'600'000'000'000;
  return 0;
}

} // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text == "0")
    return std::chrono::nanoseconds{0};
  if (text.empty())
    return std::nullopt;
  // The total in units of 10^-18 ns, so that fractions add up exactly.
  u128 total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    uint64_t whole = 0;     // the digits before the point, capped
    uint64_t fraction = 0;  // the first 18 digits after it, as 10^-18 units
    int fraction_seen = 0;
    bool point = false, digits = false;
    for (; pos < text.size() && (is_digit(text[pos]) || text[pos] == '.');
         ++pos) {
      char c = text[pos];
      if (c == '.') {
        if (point)
          return std::nullopt; // 1.2.3s
        point = true;
        continue;
      }
      digits = true;
      auto digit = static_cast<uint64_t>(c - '0');
      if (!point) {
        if (whole > year_ns) // too long already; only the cap matters
          continue;
        whole = whole * 10 + digit;
      } else if (fraction_seen < fraction_digits) {
        fraction = fraction * 10 + digit;
        ++fraction_seen;
      }
    }
    if (!digits || pos - start > max_number_length)
      return std::nullopt; // "", ".", "s", or a number too long to mean much
    for (int i = fraction_seen; i < fraction_digits; ++i)
      fraction *= 10;
    size_t unit_start = pos;
    while (pos < text.size() && is_letter(text[pos]))
      ++pos;
    auto scale = unit_ns(text.substr(unit_start, pos - unit_start));
    if (scale == 0)
      return std::nullopt; // an unknown or missing unit: "10" is ambiguous
    u128 whole_ns = u128{whole} * scale; // at most ~3.6e29
    if (whole_ns > year_ns)
      return std::nullopt;
    total += whole_ns * fraction_scale + u128{fraction} * scale;
    if (total > u128{year_ns} * fraction_scale)
      return std::nullopt;
  }
  auto ns = static_cast<uint64_t>((total + fraction_scale / 2) / fraction_scale);
  if (ns > year_ns)
    return std::nullopt;
  return std::chrono::nanoseconds{static_cast<int64_t>(ns)};
}

} // namespace netpol
