// Command-line flags and their environment variables.
#pragma once

#include "http_bridge/front.hpp"
#include "http_bridge/pod_addresses.hpp"
#include "messages/duration.hpp" // parse_duration, for the duration flags
#include "messages/flags.hpp"    // parse_size, parse_listen_address
#include "messages/settings.hpp"

#include <caf/timespan.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace netpol {

/// Settings of the HTTP side. The connection limits are the front's own
/// settings (its lane queue, write timeout and kube-burner threads have no
/// flag); the flags set these:
///   front.max_body_bytes   --max-body: the /initiate body
///   front.operator_threads --server-threads: operators' requests
///   front.header_timeout   --header-timeout: a request's line and headers
///   front.body_timeout     --body-timeout: a body of max_body_bytes
///   front.idle_timeout     --idle-timeout: keep-alive between requests
///   front.max_connections  --max-connections: open at once
///   front.body_slot_wait   (no flag): a body waiting for its turn
struct bridge_settings {
  front_settings front;
  size_t max_pods = 200'000;              // pods in one round
  caf::timespan reply_timeout = 10s;      // waiting for the coordinator
  pod_address_policy allowed_pods;        // keys /initiate may name
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
  // How the store was turned off, as the user wrote it ("--state-dir off",
  // "NETPOL_PROXY_STATE_DIR=" ...): for its log line and /status.
  std::string state_dir_off;
  proxy_settings settings;
  bridge_settings bridge;
};

/// Whether a --state-dir value (or NETPOL_PROXY_STATE_DIR) turns the store
/// off: `off`, empty, or `''` or `""` written literally (a pod spec's
/// `value: "''"` keeps the quotes; no one means a directory of that name).
bool state_dir_means_off(std::string_view text);

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
