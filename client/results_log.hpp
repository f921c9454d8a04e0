// What GET /results answers: the tests that succeeded, each once, in the
// order of their successes, encoded as the real client's Go encoder writes
// them. It only ever grows, so every answer is a prefix of the next.
#pragma once

#include "client/check_list.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace netpol::client {

/// Appends `text` as Go's json.Encoder writes a string (HTML escaping on,
/// its default): `<`, `>`, `&`, U+2028 and U+2029 as \u escapes, control
/// characters as \n, \r, \t or \u00XX, invalid UTF-8 as \ufffd.
void append_go_json_string(std::string& out, std::string_view text);

/// A time as Go's time.Time encodes to JSON in UTC: RFC 3339 with the
/// nanoseconds, trailing zeros cut (2024-10-01T11:18:33.24706Z), no
/// fraction at all when it is zero.
std::string go_time_text(std::chrono::system_clock::time_point at);

class results_log {
public:
  /// Records `test`'s success at `at`.
  void add(const probe_test& test, std::chrono::system_clock::time_point at);

  /// `[` the entries `]` and a newline, as json.NewEncoder(w).Encode writes
  /// a []connTest (`[]` when empty).
  std::string body() const;

  size_t entries() const {
    return entries_;
  }

private:
  std::string encoded_; // the entries, comma-separated
  size_t entries_ = 0;
};

} // namespace netpol::client
