// netpol-client's flags and their NETPOL_CLIENT_* environment variables.
#pragma once

#include "client/check_list.hpp"
#include "client/probe_scheduler.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace netpol::client {

struct client_options {
  /// Empty host: every address, IPv6 and IPv4 (as Go's ":9001").
  std::string listen_host;
  uint16_t listen_port = 9001;
  schedule_settings schedule;
  uint64_t max_body_bytes = 8ull << 20; // a /check body
  size_t max_tests = default_max_tests; // tests a list may expand to
  std::chrono::nanoseconds progress_interval = std::chrono::seconds{10};
  std::string log_level = "info";
  /// The real client's PARALLEL_CONNECTIONS, when set: read and checked as
  /// it reads it, and reported; it sets nothing here (docs/client.md).
  std::optional<long> parallel_connections;
};

/// Outcome of parsing the command line.
struct parsed_client_options {
  std::optional<client_options> options; // empty: exit with `exit_code`
  int exit_code = 0;
};

/// Parses flags (environment variables fill the ones not given). Prints
/// help or errors itself; --help and --version exit 0, errors 2 or more.
parsed_client_options parse_client_options(int argc, char** argv);

/// Every setting in effect, as `--flag=value` pairs for the log.
std::string describe_client_options(const client_options& options);

/// "netpol-client 0.2.0 (commit 1a2b3c4d5e6f)".
std::string client_version_text();

} // namespace netpol::client
