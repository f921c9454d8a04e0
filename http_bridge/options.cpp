#include "http_bridge/options.hpp"

#include <CLI/CLI.hpp>

#include <cctype>
#include <cstdlib>
#include <iostream>
#include <type_traits>

namespace netpol {

// The flags take messages/duration.hpp's parse_duration as it is.
static_assert(std::is_same_v<caf::timespan, std::chrono::nanoseconds>);

std::string version_text() {
  return std::string{"netpol-proxy "} + NETPOL_PROXY_VERSION + " (commit "
         + NETPOL_PROXY_COMMIT + ")";
}

std::string describe_options(const proxy_options& o) {
  auto& s = o.settings;
  auto& b = o.bridge;
  auto host = o.listen_host.find(':') != std::string::npos
                ? "[" + o.listen_host + "]"
                : o.listen_host;
  auto size = [](uint64_t bytes) {
    return bytes % (1ull << 20) == 0 ? std::to_string(bytes >> 20) + "MiB"
                                     : std::to_string(bytes);
  };
  std::string out;
  auto add = [&](const char* name, const std::string& value) {
    out += (out.empty() ? "--" : " --") + std::string{name} + "=" + value;
  };
  add("listen", host + ":" + std::to_string(o.listen_port));
  add("client-port", std::to_string(s.client_port));
  add("workers", std::to_string(s.workers));
  add("connect-timeout", describe_duration(s.connect_timeout));
  add("request-timeout", describe_duration(s.request_timeout));
  add("retries", std::to_string(s.retries));
  add("backoff-base", describe_duration(s.backoff_base));
  add("backoff-cap", describe_duration(s.backoff_cap));
  add("progress-interval", describe_duration(s.progress_interval));
  add("sample-interval", describe_duration(s.sample_interval));
  add("max-body", size(b.front.max_body_bytes));
  add("max-response", size(s.max_response_bytes));
  add("max-pods", std::to_string(b.max_pods));
  add("server-threads", std::to_string(b.front.operator_threads));
  add("reply-timeout", describe_duration(b.reply_timeout));
  add("header-timeout", describe_duration(b.front.header_timeout));
  add("body-timeout", describe_duration(b.front.body_timeout));
  add("idle-timeout", describe_duration(b.front.idle_timeout));
  add("max-connections", std::to_string(b.front.max_connections));
  add("allow-pods", "'" + b.allowed_pods.describe() + "'");
  add("state-dir", "'" + o.state_dir + "'");
  add("log-level", o.log_level);
  return out;
}

bool state_dir_means_off(std::string_view text) {
  return text == "off" || text.empty() || text == "''" || text == "\"\"";
}

namespace {

/// CLI11 skips an environment variable set empty; for --state-dir that is
/// the one way a pod spec can say "no store" besides `off`, so it counts.
/// Also names what turned the store off, as the user wrote it.
void note_state_dir_off(proxy_options& opts, int argc, char** argv) {
  const char* env = std::getenv("NETPOL_PROXY_STATE_DIR");
  bool on_command_line = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg{argv[i]};
    if (arg == "--state-dir" || arg.rfind("--state-dir=", 0) == 0)
      on_command_line = true;
  }
  if (!on_command_line && env != nullptr && *env == '\0') {
    opts.state_dir.clear();
    opts.state_dir_given = true;
  }
  if (!opts.state_dir_given || !opts.state_dir.empty())
    return;
  if (on_command_line || env == nullptr)
    opts.state_dir_off
      = "--state-dir " + (opts.state_dir_off.empty() ? "''" : opts.state_dir_off);
  else
    opts.state_dir_off = std::string{"NETPOL_PROXY_STATE_DIR="} + env;
}

} // namespace

parsed_options parse_options(int argc, char** argv) {
  proxy_options opts;
  auto& s = opts.settings;
  auto& b = opts.bridge;
  CLI::App app{"netpol-proxy: delivers kube-burner's network-policy "
               "connection lists to client pods and collects their results.\n"
               "Every flag can also be set by the environment variable shown."};
  app.get_formatter()->column_width(36);
  app.set_version_flag("--version", version_text());
  std::string listen = "0.0.0.0:9002";
  app
    .add_option_function<std::string>(
      "-l,--listen",
      [&](const std::string& text) {
        auto parsed = parse_listen_address(text);
        if (!parsed)
          throw CLI::ValidationError(
            "--listen", "'" + text
                          + "' is not HOST:PORT (e.g. 0.0.0.0:9002, "
                            "[::]:9002, :9002)");
        opts.listen_host = parsed->first;
        opts.listen_port = parsed->second;
      },
      "Address kube-burner talks to")
    ->envname("NETPOL_PROXY_LISTEN")
    ->type_name("HOST:PORT")
    ->default_str(listen);
  add_number_flag(app, "--client-port", "NETPOL_PROXY_CLIENT_PORT",
                  s.client_port, 1, 65535, "Port client pods listen on");
  add_number_flag(app, "-w,--workers", "NETPOL_PROXY_WORKERS", s.workers, 1,
                  2000, "Pod calls in flight at most");
  add_duration_flag(app, "--connect-timeout", "NETPOL_PROXY_CONNECT_TIMEOUT",
                    s.connect_timeout, "Time to connect to a pod");
  add_duration_flag(app, "--request-timeout", "NETPOL_PROXY_REQUEST_TIMEOUT",
                    s.request_timeout,
                    "Time for a pod call after connecting; a call's deadline "
                    "is --connect-timeout + --request-timeout in all");
  add_number_flag(app, "--retries", "NETPOL_PROXY_RETRIES", s.retries, 0, 100,
                  "Retries per pod and stage after a failed call");
  add_duration_flag(app, "--backoff-base", "NETPOL_PROXY_BACKOFF_BASE",
                    s.backoff_base, "Delay before the first retry (doubles)",
                    true);
  add_duration_flag(app, "--backoff-cap", "NETPOL_PROXY_BACKOFF_CAP",
                    s.backoff_cap, "Longest delay between retries", true);
  add_duration_flag(app, "--progress-interval",
                    "NETPOL_PROXY_PROGRESS_INTERVAL", s.progress_interval,
                    "Time between progress log lines");
  add_duration_flag(app, "--sample-interval", "NETPOL_PROXY_SAMPLE_INTERVAL",
                    s.sample_interval,
                    "Time between sweeps that read every pod's /results "
                    "during the job, kept for pods lost by /stop (0: off)",
                    true);
  add_size_flag(app, "--max-body", "NETPOL_PROXY_MAX_BODY",
                b.front.max_body_bytes, "Largest /initiate body accepted");
  add_size_flag(app, "--max-response", "NETPOL_PROXY_MAX_RESPONSE",
                s.max_response_bytes,
                "Largest /results body taken from one pod");
  add_number_flag(app, "--max-pods", "NETPOL_PROXY_MAX_PODS", b.max_pods, 1,
                  10'000'000, "Most pods in one round");
  add_number_flag(app, "--server-threads", "NETPOL_PROXY_SERVER_THREADS",
                  b.front.operator_threads, 1, 64,
                  "Threads answering operators' requests (/status, /report, "
                  "/metrics, the page); kube-burner's calls have two of "
                  "their own");
  add_duration_flag(app, "--reply-timeout", "NETPOL_PROXY_REPLY_TIMEOUT",
                    b.reply_timeout,
                    "Time an HTTP request waits for the coordinator");
  add_duration_flag(app, "--header-timeout", "NETPOL_PROXY_HEADER_TIMEOUT",
                    b.front.header_timeout,
                    "Time a caller has to send a request's line and headers "
                    "(408 or close after)");
  add_duration_flag(app, "--body-timeout", "NETPOL_PROXY_BODY_TIMEOUT",
                    b.front.body_timeout,
                    "Time to send a body of --max-body bytes; smaller bodies "
                    "get proportionally less, at least --header-timeout");
  add_duration_flag(app, "--idle-timeout", "NETPOL_PROXY_IDLE_TIMEOUT",
                    b.front.idle_timeout,
                    "Time a keep-alive connection may sit between requests");
  add_number_flag(app, "--max-connections", "NETPOL_PROXY_MAX_CONNECTIONS",
                  b.front.max_connections, 16, 1'000'000,
                  "Connections open at once; more are answered 503 at once");
  app
    .add_option_function<std::string>(
      "--allow-pods",
      [&b](const std::string& text) {
        if (text.find_first_not_of(" \t,") == std::string::npos) {
          b.allowed_pods = pod_address_policy{}; // empty: the default
          return;
        }
        std::string error;
        auto policy = pod_address_policy::parse(text, error);
        if (!policy)
          throw CLI::ValidationError("--allow-pods", error);
        b.allowed_pods = std::move(*policy);
      },
      "Pod addresses /initiate may name, as CIDRs (10.128.0.0/14,"
      "fd01::/48); the default is every unicast address but link-local")
    ->envname("NETPOL_PROXY_ALLOW_PODS")
    ->type_name("CIDRS")
    ->default_str("all but link-local");
  app
    .add_option_function<std::string>(
      "--state-dir",
      [&opts](const std::string& text) {
        bool off = state_dir_means_off(text);
        opts.state_dir = off ? "" : text;
        opts.state_dir_off = off ? text : ""; // named once parsed
        opts.state_dir_given = true;
      },
      "Directory of the round store (SQLite), so a restart resumes the "
      "round; off (or '', or the variable set empty) keeps the round in "
      "memory only. By default /dev/shm/netpol-proxy when /dev/shm is "
      "writable (it outlives a container restart)")
    ->envname("NETPOL_PROXY_STATE_DIR")
    ->type_name("DIR")
    ->default_str(default_state_dir);
  app.add_option("--log-level", opts.log_level, "Log level")
    ->envname("NETPOL_PROXY_LOG_LEVEL")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
    ->capture_default_str();
  parsed_options result;
  if (auto exit_code = parse_flags(app, argc, argv)) {
    result.exit_code = *exit_code;
    return result;
  }
  note_state_dir_off(opts, argc, argv);
  if (s.backoff_cap < s.backoff_base) {
    std::cerr << "--backoff-cap must not be shorter than --backoff-base\n";
    result.exit_code = 2;
    return result;
  }
  result.options = std::move(opts);
  return result;
}

} // namespace netpol
