// Command-line flags and their environment variables.
#pragma once

#include "http_bridge/pod_addresses.hpp"
#include "messages/duration.hpp" // parse_duration, for the duration flags
#include "messages/flags.hpp"    // parse_size, parse_listen_address
#include "messages/settings.hpp"

#include <caf/timespan.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace netpol {

/// Settings of the HTTP side.
struct bridge_settings {
  uint64_t max_body_bytes = 256ull << 20; // /initiate body
  size_t max_pods = 200'000;              // pods in one round
  unsigned threads = 2;                   // threads for operators' requests
  caf::timespan reply_timeout = 10s;      // waiting for the coordinator
  caf::timespan header_timeout = 10s;     // a request's line and headers
  caf::timespan body_timeout = 120s;      // a body of max_body_bytes
  caf::timespan idle_timeout = 60s;       // keep-alive between requests
  size_t max_connections = 4096;          // open at once
  pod_address_policy allowed_pods;        // keys /initiate may name
  caf::timespan body_slot_wait = 5s;      // a body waiting for its turn (no flag)
  std::string described;                  // every setting, as the log's second line
};

/// Where the round is kept across restarts when --state-dir is not given.
inline const char* const default_state_dir = "/dev/shm/netpol-proxy";

struct proxy_options {
  std::string listen_host = "0.0.0.0";
  uint16_t listen_port = 9002;
  std::string log_level = "info";
  std::string state_dir = default_state_dir; // empty: in memory only
  bool state_dir_given = false;              // by flag or environment
  proxy_settings settings;
  bridge_settings bridge;
};

/// Outcome of parsing the command line.
struct parsed_options {
  std::optional<proxy_options> options; // empty: exit with `exit_code`
  int exit_code = 0;
};

/// Parses flags (environment variables fill the ones not given). Prints help
/// or errors itself; `--help` yields exit code 0, errors a non-zero one.
parsed_options parse_options(int argc, char** argv);

/// Every setting in effect (flags and environment merged), as one line of
/// `--flag=value` pairs for the log.
std::string describe_options(const proxy_options& options);

/// "netpol-proxy 0.2.0 (commit 1a2b3c4d5e6f)".
std::string version_text();

} // namespace netpol
