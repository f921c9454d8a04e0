// The connection list a /check body hands netpol-client: the real client's
// `[]connection` (docs/protocol.md §2), expanded into tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netpol::client {

/// One test: an address × port of a connection, reported once, at its first
/// success, as {"address","port","connectionidx","npname","timestamp"}.
struct probe_test {
  std::string address;
  uint16_t port = 0;
  int64_t connection_index = 0; // the connection's index in the body
  std::string netpol;           // the connection's "netpol" (npname)
  size_t target = 0;            // index into check_list::targets

  friend bool operator==(const probe_test& x, const probe_test& y) {
    return x.address == y.address && x.port == y.port
           && x.connection_index == y.connection_index
           && x.netpol == y.netpol;
  }
};

/// Where a test connects: tests that name the same address and port share
/// one target, probed once for all of them (they succeed at the same
/// instant, since reachability is one fact).
struct probe_target {
  std::string address;
  uint16_t port = 0;
  std::vector<size_t> tests; // indexes into check_list::tests, in order
};

/// A parsed /check body.
struct check_list {
  size_t connections = 0;           // array elements, nulls included
  std::vector<probe_test> tests;    // connection, then address, then port
  std::vector<probe_target> targets; // in the order of their first test
};

/// A /check body parsed, or why not.
struct check_parse {
  std::optional<check_list> list;
  std::string error; // when no list: what is wrong, and where
};

/// Tests a list may expand to, by default (--max-tests).
inline constexpr size_t default_max_tests = 100'000;

/// Parses a /check body as the real client's json.Unmarshal into
/// `[]connection` does: `null` or an array of objects (or `null`s) with
/// "addresses" ([]string), "ports" ([]int) and "netpol" (string), keys
/// matched with Go's case folding, a repeated key decoded again (the last
/// wins; `null` empties a list and leaves a string; a null element keeps
/// what an earlier list of the key left at its index), other keys ignored,
/// ports integers only, nesting at most 10,000 deep. Stricter than Go, so
/// that a list is never taken that could not be tested: a port outside
/// 1-65535, and an address that is neither an IP address nor a host name,
/// refuse the body; a body that is not UTF-8 is refused too (Go would read
/// U+FFFD for the bad bytes); and so is a list of more than `max_tests`
/// tests (addresses × ports: a small body can name billions).
check_parse parse_check_body(std::string_view body,
                             size_t max_tests = default_max_tests);

/// True for a textual IPv4 or IPv6 address (no brackets, no zone).
bool is_ip_literal(std::string_view text);

/// True for a DNS name: dot-separated labels of letters, digits and '-'
/// (not at a label's ends), at most 253 characters.
bool is_host_name(std::string_view text);

} // namespace netpol::client
