// client_go_oracle: netpol-client's /check decoder and /results encoder
// against Go's own encoding/json, as the real client (netpolvalidator) uses
// it: tests/oracle/netpolvalidator_codec.go, spawned in --serve mode.
//
//   netpol-test-client-oracle [CAF options] -- ORACLE CASES_DIR
//
// Decoding: every file of CASES_DIR (tests/oracle/client_cases) and a few
// thousand generated bodies go through both sides. Where both take a body,
// the connection count and the tests (in order) must be equal; where Go
// refuses, we must too. We may refuse what Go takes only for the reasons
// parse_check_body documents: a port outside 1-65535 or an address that is
// neither an IP address nor a host name (anywhere in Go's decoded list), or
// a body that is not UTF-8; and a UTF-8 body for its value, once decoded.
// The process and the comparison are tests/oracle/client_oracle.hpp, shared
// with the fuzz target fuzz_check_body. A case file's name states the
// expected outcome: accept.* (both take it), reject.* (both refuse it),
// stricter.* (Go takes it, we refuse it by design).
//
// Encoding: results_log::body() must be byte for byte what Go's
// json.NewEncoder(w).Encode writes for the same []connTest.
#define CAF_SUITE client_go_oracle

#include "client/check_list.hpp"
#include "client/results_log.hpp"
#include "oracle/client_oracle.hpp"

#include "support/test.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

using namespace netpol::client;
using namespace netpol::client_oracle;
namespace fs = std::filesystem;

namespace {

// -- the oracle process (tests/oracle/client_oracle.hpp) --------------------

/// The arguments after CAF's `--`: the oracle's path, the cases directory.
std::string argument(int i) {
  auto argc = caf::test::engine::argc();
  if (argc < 3)
    CAF_FAIL("usage: netpol-test-client-oracle [CAF options] -- ORACLE "
             "CASES_DIR");
  return caf::test::engine::argv()[i];
}

/// One oracle for the whole run, started at first use.
codec& oracle() {
  static codec process;
  static bool started = false;
  if (!started) {
    if (!process.start(argument(1)))
      CAF_FAIL(process.error);
    started = true;
  }
  return process;
}

codec::reply ask(char kind, std::string_view payload) {
  auto answer = oracle().ask(kind, payload);
  if (!answer)
    CAF_FAIL(oracle().error);
  return std::move(*answer);
}

// -- decoding ---------------------------------------------------------------

/// Both sides on `body`; `why` says what differs (or why we are stricter).
outcome compare_decode(std::string_view body, std::string& why) {
  auto go = decode(oracle(), body);
  if (!go)
    CAF_FAIL(oracle().error);
  // No cap on tests: only the decoding is compared here.
  return compare(*go,
                 parse_check_body(body, std::numeric_limits<size_t>::max()),
                 body, why);
}

std::string read_file(const fs::path& path) {
  std::ifstream in{path, std::ios::binary};
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

// -- generated bodies -------------------------------------------------------

/// splitmix64: deterministic, so a failure reproduces.
struct rng {
  uint64_t state;

  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) {
    return static_cast<size_t>(next() % n);
  }
  bool percent(unsigned p) {
    return below(100) < p;
  }
  template <size_t N>
  const char* pick(const char* const (&items)[N]) {
    return items[below(N)];
  }
};

std::string ws(rng& r) {
  static constexpr const char* spaces[] = {" ", "\n", "\t", "\r\n", "  "};
  return r.percent(80) ? "" : r.pick(spaces);
}

/// A key Go matches to `name`: ASCII case flips, 'ſ' for 's', escapes.
std::string folded_key(rng& r, std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == 's' && r.percent(10)) {
      out += r.percent(50) ? "\xC5\xBF" : "\\u017f";
    } else if (r.percent(5)) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out += r.percent(20) ? static_cast<char>(c ^ 0x20) : c;
    }
  }
  return out + "\"";
}

std::string gen_address(rng& r) {
  static constexpr const char* odd[] = {
    "\"\"", "\"1.2.3.256\"", "\"a_b\"", "\"-x\"", "\"10.0.0.1:80\"",
    "\"\\ud800\"", "\"\xC3\xBC.example\"", "\"a..b\"", "null",
    "\"10\\u002e0.0.1\"", "\"::1\"", "\"fe80::1\"", "\"2001:db8::a\"",
    "\"localhost\"", "\"web.\"", "1", "[]"};
  if (r.percent(12))
    return r.pick(odd);
  // Statements, not one expression: the draws in a fixed order.
  std::string out = "\"";
  if (r.percent(40)) {
    out += "svc-" + std::to_string(r.below(50));
    out += ".ns-" + std::to_string(r.below(5));
    return out + ".svc.cluster.local\"";
  }
  out += "10." + std::to_string(r.below(256));
  out += "." + std::to_string(r.below(256));
  out += "." + std::to_string(r.below(256));
  return out + "\"";
}

std::string gen_port(rng& r) {
  static constexpr const char* odd[] = {
    "0", "-0", "65536", "-1", "1e2", "1.0", "80.5", "null", "65535", "1",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "\"80\"", "1E400", "true", "00"};
  if (r.percent(6))
    return r.pick(odd);
  return std::to_string(1 + r.below(65535));
}

std::string gen_netpol(rng& r) {
  static constexpr const char* odd[] = {
    "\"\"", "null", "\"a\\\"b\"", "\"<&>\\u2028\"", "\"\\ud800\"",
    "\"\\ud83d\\ude00\"", "\"\xC3\xB1\xE6\x97\xA5\"", "\"\\u0000\"", "1",
    "[]", "\"\\udc00\\ud800x\"", "\"\xFF\"", "{}"};
  if (r.percent(10))
    return r.pick(odd);
  std::string out = "\"ingress-" + std::to_string(r.below(9));
  return out + "-" + std::to_string(r.below(9)) + "\"";
}

std::string gen_unknown(rng& r, int depth) {
  static constexpr const char* scalars[] = {
    "1e400", "-1e999", "123456789012345678901234567890", "0", "-0.5e-3",
    "\"\\udc00\"", "\"x\"", "true", "false", "null", "\"\\ud800\\u0041\"",
    "1E+2", "\"\xE2\x84\xAA\""};
  auto kind = depth < 3 ? r.below(4) : 0;
  if (kind <= 1)
    return r.pick(scalars);
  std::string out = kind == 2 ? "[" : "{";
  for (size_t i = 0, n = r.below(4); i < n; ++i) {
    if (i > 0)
      out += ",";
    if (kind == 3)
      out += "\"k" + std::to_string(i) + "\":";
    out += ws(r);
    out += gen_unknown(r, depth + 1);
  }
  return out + (kind == 2 ? "]" : "}");
}

template <class Gen>
std::string gen_list(rng& r, Gen gen) {
  if (r.percent(5))
    return "null";
  std::string out = "[";
  for (size_t i = 0, n = r.below(4); i < n; ++i) {
    out += i > 0 ? "," : "";
    out += ws(r);
    // Null elements often: after a repeated key they keep earlier values.
    out += r.percent(8) ? std::string{"null"} : gen(r);
    out += ws(r);
  }
  return out + "]";
}

/// One connection object: the three keys in any order, some repeated, some
/// null, unknown keys between them.
std::string gen_connection(rng& r) {
  static constexpr const char* unknown_keys[] = {
    "\"extra\"", "\"port\"", "\"addresse\"", "\"\xE2\x84\xAAports\"",
    "\"netpols\"", "\"\"", "\"\\udc00\""};
  std::vector<std::string> members;
  for (size_t i = 0, n = 1 + r.below(4); i < n; ++i) {
    switch (r.below(4)) {
      case 0:
        members.push_back(folded_key(r, "addresses") + ":");
        members.back() += gen_list(r, gen_address);
        break;
      case 1:
        members.push_back(folded_key(r, "ports") + ":");
        members.back() += gen_list(r, gen_port);
        break;
      case 2:
        members.push_back(folded_key(r, "netpol") + ":");
        members.back() += gen_netpol(r);
        break;
      default:
        members.push_back(std::string{r.pick(unknown_keys)} + ":");
        members.back() += gen_unknown(r, 0);
    }
  }
  std::string out = "{";
  for (size_t i = 0; i < members.size(); ++i) {
    out += i > 0 ? "," : "";
    out += ws(r);
    out += members[i];
    out += ws(r);
  }
  return out + "}";
}

std::string gen_body(rng& r) {
  if (r.percent(3))
    return ws(r) + "null" + ws(r);
  std::string out = ws(r) + "[";
  for (size_t i = 0, n = r.below(5); i < n; ++i) {
    out += i > 0 ? "," : "";
    out += ws(r);
    out += r.percent(10) ? std::string{"null"} : gen_connection(r);
  }
  out += "]";
  return out + ws(r);
}

/// One to three random edits of `body`.
std::string mutate(rng& r, std::string body) {
  static constexpr const char* tokens[] = {
    "null", "[]", "{}", ",", "\"\\ud800\"", "1e400", "\xFF", "\xC5\xBF",
    "\"x\":1,", "]", "}", ":", "\"", "\\", "0", "-", "\xEF\xBB\xBF"};
  for (size_t i = 0, n = 1 + r.below(3); i < n; ++i) {
    size_t at = r.below(body.size() + 1);
    switch (r.below(5)) {
      case 0:
        if (at < body.size())
          body.erase(at, 1);
        break;
      case 1:
        body.insert(at, r.pick(tokens));
        break;
      case 2:
        if (at < body.size())
          body[at] = static_cast<char>(r.next());
        break;
      case 3:
        body.resize(at);
        break;
      default: {
        size_t from = r.below(body.size() + 1);
        body.insert(at, body.substr(from, r.below(12)));
      }
    }
  }
  return body;
}

// -- encoding ---------------------------------------------------------------

struct encode_entry {
  std::string address, npname;
  uint16_t port = 0;
  int64_t connection_index = 0;
  int64_t seconds = 0;
  uint32_t nanos = 0;
};

void put_u64(std::string& out, uint64_t n) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out += static_cast<char>((n >> shift) & 0xFF);
}

void put_text(std::string& out, std::string_view text) {
  char length[4];
  codec::put_u32(length, static_cast<uint32_t>(text.size()));
  out.append(length, 4);
  out += text;
}

std::string go_encode(const std::vector<encode_entry>& entries) {
  std::string payload(4, '\0');
  codec::put_u32(payload.data(), static_cast<uint32_t>(entries.size()));
  for (auto& e : entries) {
    put_text(payload, e.address);
    put_text(payload, e.npname);
    put_u64(payload, e.port);
    put_u64(payload, static_cast<uint64_t>(e.connection_index));
    put_u64(payload, static_cast<uint64_t>(e.seconds));
    char nanos[4];
    codec::put_u32(nanos, e.nanos);
    payload.append(nanos, 4);
  }
  auto answer = ask('E', payload);
  if (!answer.ok)
    CAF_FAIL("Go cannot encode: " << answer.payload);
  return std::move(answer.payload);
}

std::string our_encode(const std::vector<encode_entry>& entries) {
  using namespace std::chrono;
  results_log log;
  for (auto& e : entries) {
    probe_test test{e.address, e.port, e.connection_index, e.npname, 0};
    // Up to the clock's ends: a negative second count takes its fraction
    // off the next second, or seconds{} alone would overflow at 1677.
    int64_t ns = e.seconds < 0 && e.nanos > 0
                   ? (e.seconds + 1) * 1000000000 - (1000000000 - e.nanos)
                   : e.seconds * 1000000000 + e.nanos;
    log.add(test, system_clock::time_point{
                    duration_cast<system_clock::duration>(nanoseconds{ns})});
  }
  return log.body();
}

/// True if both encode `entries` alike; else reports the two bodies.
bool same_encoding(const std::vector<encode_entry>& entries) {
  auto go = go_encode(entries);
  auto ours = our_encode(entries);
  if (go == ours)
    return true;
  CAF_ERROR("encodings differ:\n     Go: " << printable(go)
                                          << "\n    ours: " << printable(ours));
  return false;
}

encode_entry entry_with_text(std::string text) {
  encode_entry e;
  e.address = text;
  e.npname = "np" + std::move(text) + "x";
  e.port = 8080;
  e.seconds = 1727781513;
  e.nanos = 247061614;
  return e;
}

/// Interesting strings: ASCII bytes alone and embedded, HTML characters,
/// line separators, UTF-8 of each length and the invalid kinds.
std::vector<std::string> crafted_strings() {
  std::vector<std::string> out{"", "<>&", "a<b>c&d", "\"\\/",
    "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xA7\xE2\x80\xAA",
    "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xEF\xBF\xBF", "\xEF\xBF\xBD",
    "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF", "\xC3\xB1\xE6\x97\xA5\xF0\x9F\x98\x80",
    // invalid: stray continuation, overlongs, surrogates, beyond U+10FFFF,
    // bytes never in UTF-8, sequences cut short
    "\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xC0\xAF", "\xE0\x80\x80",
    "\xE0\x9F\xBF", "\xF0\x8F\xBF\xBF", "\xED\xA0\x80", "\xED\xBF\xBF",
    "\xED\xA0\xBD\xED\xB8\x80", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80",
    "\xF8\x88\x80\x80\x80", "\xFE", "\xFF", "\xE2\x80", "\xF0\x9F\x98",
    "\xC3", "\xC3(", "a\xFF" "b\xE2\x80\xA8" "c", "\xE2\x28\xA1"};
  for (int b = 0; b < 0x80; ++b) {
    out.push_back(std::string(1, static_cast<char>(b)));
    out.push_back("a" + std::string(1, static_cast<char>(b)) + "z");
  }
  return out;
}

std::string random_bytes(rng& r) {
  static constexpr unsigned char common[] = {
    0x00, 0x1F, '"', '\\', '<', '>', '&', 'a', 0x7F, 0x80, 0xBF, 0xC2, 0xC5,
    0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xFF, 0xA8, 0xA9, 0x9F};
  std::string out;
  for (size_t i = 0, n = r.below(13); i < n; ++i)
    out += static_cast<char>(r.percent(60) ? common[r.below(sizeof common)]
                                           : r.below(256));
  return out;
}

/// A time with `nanos` cut to a random number of digits, so that the
/// fraction's trailing zeros vary.
encode_entry entry_at(rng& r, int64_t seconds, uint32_t nanos) {
  static constexpr uint32_t scale[] = {1, 10, 1000, 1000000, 100000000};
  auto e = entry_with_text("t");
  e.seconds = seconds;
  auto s = scale[r.below(5)];
  e.nanos = nanos / s * s;
  return e;
}

/// A random time in [from, from + span) seconds, its draws in a fixed order.
encode_entry random_entry(rng& r, int64_t from, uint64_t span) {
  auto seconds = from + static_cast<int64_t>(r.below(span));
  auto nanos = static_cast<uint32_t>(r.below(1000000000));
  return entry_at(r, seconds, nanos);
}

// Unix seconds of system_clock's nanosecond range, 1677 to 2262.
constexpr int64_t min_seconds = -9223372036;
constexpr int64_t max_seconds = 9223372035;

} // namespace

// -- the tests --------------------------------------------------------------

TEST(the crafted check bodies decode as in Go) {
  std::vector<fs::path> files;
  for (auto& entry : fs::directory_iterator{argument(2)})
    if (entry.is_regular_file())
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  size_t counts[3] = {0, 0, 0};
  for (auto& path : files) {
    auto name = path.filename().string();
    auto expected = name.rfind("accept.", 0) == 0   ? outcome::accepted
                    : name.rfind("reject.", 0) == 0 ? outcome::refused
                    : name.rfind("stricter.", 0) == 0
                      ? outcome::stricter
                      : outcome::differs;
    if (expected == outcome::differs) {
      CAF_ERROR(name << ": not named accept.*, reject.* or stricter.*");
      continue;
    }
    ++counts[static_cast<int>(expected)];
    std::string why;
    auto got = compare_decode(read_file(path), why);
    if (got != expected)
      CAF_ERROR(name << ": " << name_of(got) << (why.empty() ? "" : ": ")
                     << why);
  }
  MESSAGE(files.size() << " cases: " << counts[0] << " accept, " << counts[1]
                       << " reject, " << counts[2] << " stricter");
  CHECK_GREATER_OR_EQUAL(files.size(), 40u);
}

TEST(generated check bodies decode as in Go) {
  rng r{20241001};
  size_t counts[4] = {0, 0, 0, 0}, shown = 0;
  for (int i = 0; i < 6000; ++i) {
    auto body = gen_body(r);
    if (i % 2 == 1)
      body = mutate(r, std::move(body));
    std::string why;
    auto got = compare_decode(body, why);
    ++counts[static_cast<int>(got)];
    if (got == outcome::differs && ++shown <= 10)
      CAF_ERROR("case " << i << ": " << why << "\n    body: "
                        << printable(body));
  }
  MESSAGE("6000 generated bodies: " << counts[0] << " accepted by both, "
                                    << counts[1] << " refused by both, "
                                    << counts[2] << " stricter, " << counts[3]
                                    << " differ");
  CHECK_EQUAL(counts[3], 0u);
  // The generator must reach every outcome, or it tests too little.
  CHECK_GREATER(counts[0], 500u);
  CHECK_GREATER(counts[1], 500u);
  CHECK_GREATER(counts[2], 100u);
}

TEST(strings encode as in Go) {
  size_t differ = 0, count = 0;
  for (auto& text : crafted_strings()) {
    ++count;
    differ += !same_encoding({entry_with_text(text)});
  }
  rng r{2028};
  for (int i = 0; i < 1000; ++i, ++count)
    differ += !same_encoding({entry_with_text(random_bytes(r))});
  MESSAGE(count << " strings encoded");
  CHECK_EQUAL(differ, 0u);
}

TEST(timestamps encode as in Go) {
  rng r{1970};
  std::vector<encode_entry> entries;
  for (auto nanos : {0u, 1u, 10u, 100u, 1000u, 120000000u, 100000000u,
                     999999999u, 500000000u, 247060000u})
    entries.push_back(entry_at(r, 1727781513, nanos));
  // Epoch, leap days, just before 1970, and the clock's both ends.
  for (auto [s, ns] : {std::pair<int64_t, uint32_t>{0, 0}, {-1, 0}, {-1, 1},
                       {-1, 999999999}, {951782400, 0}, {4107542399, 5},
                       {78796799, 0}, {-86400 * 365LL, 1}, {max_seconds, 0},
                       {max_seconds + 1, 854775807},
                       {min_seconds - 1, 145224192}, {min_seconds, 0}}) {
    encode_entry e = entry_with_text("t");
    e.seconds = s;
    e.nanos = ns;
    entries.push_back(e);
  }
  for (int i = 0; i < 600; ++i) // 1970 to 2262
    entries.push_back(random_entry(r, 0, max_seconds));
  for (int i = 0; i < 300; ++i) // 1677 to 1970
    entries.push_back(random_entry(r, min_seconds, -min_seconds));
  size_t differ = 0;
  for (auto& e : entries)
    differ += !same_encoding({e});
  MESSAGE(entries.size() << " timestamps encoded");
  CHECK_EQUAL(differ, 0u);
}

TEST(bodies of none one and many entries encode as in Go) {
  CHECK(same_encoding({}));
  CHECK_EQUAL(our_encode({}), "[]\n");
  CHECK(same_encoding({entry_with_text("10.0.0.1")}));
  rng r{65535};
  auto strings = crafted_strings();
  for (size_t size : {2u, 17u, 400u}) {
    std::vector<encode_entry> entries;
    for (size_t i = 0; i < size; ++i) {
      auto e = random_entry(r, -1000000, max_seconds);
      e.address = strings[r.below(strings.size())];
      e.npname = random_bytes(r);
      e.port = static_cast<uint16_t>(r.below(65536));
      static constexpr int64_t indexes[] = {0, 1, 4096, -1,
                                            INT64_MAX, INT64_MIN};
      e.connection_index = r.percent(50) ? static_cast<int64_t>(i)
                                         : indexes[r.below(6)];
      entries.push_back(std::move(e));
    }
    CHECK(same_encoding(entries));
  }
}
