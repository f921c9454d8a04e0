#include "http_bridge/options.hpp"

#include <CLI/CLI.hpp>

#include <cctype>
#include <type_traits>

namespace netpol {

// The flags take messages/duration.hpp's parse_duration as it is.
static_assert(std::is_same_v<caf::timespan, std::chrono::nanoseconds>);

std::optional<uint64_t> parse_size(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])))
    ++pos;
  if (pos == 0 || pos > 15)
    return std::nullopt;
  uint64_t value = std::stoull(std::string{text.substr(0, pos)});
  auto unit = text.substr(pos);
  uint64_t scale;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "KiB")
    scale = 1ull << 10;
  else if (unit == "MiB")
    scale = 1ull << 20;
  else if (unit == "GiB")
    scale = 1ull << 30;
  else if (unit == "kB" || unit == "KB")
    scale = 1000;
  else if (unit == "MB")
    scale = 1000 * 1000;
  else if (unit == "GB")
    scale = 1000 * 1000 * 1000;
  else
    return std::nullopt;
  if (value > (uint64_t{1} << 50) / scale)
    return std::nullopt;
  return value * scale;
}

std::optional<std::pair<std::string, uint16_t>>
parse_listen_address(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return std::nullopt;
  std::string host{text.substr(0, colon)};
  auto port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string::npos)
    return std::nullopt; // IPv6 needs brackets
  if (host.empty())
    host = "0.0.0.0";
  if (port_text.empty() || port_text.size() > 5)
    return std::nullopt;
  for (auto c : port_text)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return std::nullopt;
  auto port = std::stoul(std::string{port_text});
  if (port > 65535)
    return std::nullopt;
  return std::make_pair(host, static_cast<uint16_t>(port));
}

namespace {

/// Adds a flag whose value is a duration, e.g. --connect-timeout 3s.
void add_duration(CLI::App& app, const std::string& name,
                  const std::string& env, caf::timespan& target,
                  const std::string& description, bool allow_zero = false) {
  auto current = std::chrono::duration_cast<std::chrono::milliseconds>(target)
                   .count();
  auto shown = current % 1000 == 0 ? std::to_string(current / 1000) + "s"
                                   : std::to_string(current) + "ms";
  app
    .add_option_function<std::string>(
      name,
      [&target, name, allow_zero](const std::string& text) {
        auto value = parse_duration(text);
        if (!value || (!allow_zero && value->count() <= 0))
          throw CLI::ValidationError(
            name, "'" + text
                    + "' is not a duration like 500ms, 10s or 1m30s"
                    + (allow_zero ? "" : " (greater than zero)"));
        target = *value;
      },
      description)
    ->envname(env)
    ->type_name("DURATION")
    ->default_str(shown);
}

void add_size(CLI::App& app, const std::string& name, const std::string& env,
              uint64_t& target, const std::string& description) {
  app
    .add_option_function<std::string>(
      name,
      [&target, name](const std::string& text) {
        auto value = parse_size(text);
        if (!value || *value == 0)
          throw CLI::ValidationError(
            name, "'" + text + "' is not a size like 1048576, 64MiB or 1GB");
        target = *value;
      },
      description)
    ->envname(env)
    ->type_name("SIZE")
    ->default_str(std::to_string(target >> 20) + "MiB");
}

/// Whether the command line names `option` (so its value is not the
/// environment variable's).
bool on_command_line(const CLI::Option& option, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg{argv[i]};
    for (auto& name : option.get_lnames())
      if (arg == "--" + name || arg.rfind("--" + name + "=", 0) == 0)
        return true;
    for (auto& name : option.get_snames())
      if (arg.rfind("-" + name, 0) == 0)
        return true;
  }
  return false;
}

/// The variable behind a bad value, when the value came from the
/// environment: the error names the flag, the user set the variable.
std::string from_environment(const CLI::App& app, const std::string& error,
                             int argc, char** argv) {
  for (const auto* option : app.get_options()) {
    auto env = option->get_envname();
    if (env.empty() || std::getenv(env.c_str()) == nullptr
        || on_command_line(*option, argc, argv))
      continue;
    for (auto& name : option->get_lnames())
      if (error.find("--" + name) != std::string::npos)
        return env + "=" + std::getenv(env.c_str()) + " (the environment "
               + "variable of --" + name + "): " + error;
  }
  return {};
}

} // namespace

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
  add("max-body", size(b.max_body_bytes));
  add("max-response", size(s.max_response_bytes));
  add("max-pods", std::to_string(b.max_pods));
  add("server-threads", std::to_string(b.threads));
  add("reply-timeout", describe_duration(b.reply_timeout));
  add("header-timeout", describe_duration(b.header_timeout));
  add("body-timeout", describe_duration(b.body_timeout));
  add("idle-timeout", describe_duration(b.idle_timeout));
  add("max-connections", std::to_string(b.max_connections));
  add("allow-pods", "'" + b.allowed_pods.describe() + "'");
  add("state-dir", "'" + o.state_dir + "'");
  add("log-level", o.log_level);
  return out;
}

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
  app.add_option("--client-port", s.client_port, "Port client pods listen on")
    ->envname("NETPOL_PROXY_CLIENT_PORT")
    ->check(CLI::Range(1, 65535))
    ->capture_default_str();
  app.add_option("-w,--workers", s.workers, "Pod calls in flight at most")
    ->envname("NETPOL_PROXY_WORKERS")
    ->check(CLI::Range(1, 2000))
    ->capture_default_str();
  add_duration(app, "--connect-timeout", "NETPOL_PROXY_CONNECT_TIMEOUT",
               s.connect_timeout, "Time to connect to a pod");
  add_duration(app, "--request-timeout", "NETPOL_PROXY_REQUEST_TIMEOUT",
               s.request_timeout,
               "Time for a pod call after connecting; a call's deadline "
               "is --connect-timeout + --request-timeout in all");
  app
    .add_option("--retries", s.retries,
                "Retries per pod and stage after a failed call")
    ->envname("NETPOL_PROXY_RETRIES")
    ->check(CLI::Range(0, 100))
    ->capture_default_str();
  add_duration(app, "--backoff-base", "NETPOL_PROXY_BACKOFF_BASE",
               s.backoff_base, "Delay before the first retry (doubles)", true);
  add_duration(app, "--backoff-cap", "NETPOL_PROXY_BACKOFF_CAP", s.backoff_cap,
               "Longest delay between retries", true);
  add_duration(app, "--progress-interval", "NETPOL_PROXY_PROGRESS_INTERVAL",
               s.progress_interval, "Time between progress log lines");
  add_size(app, "--max-body", "NETPOL_PROXY_MAX_BODY", b.max_body_bytes,
           "Largest /initiate body accepted");
  add_size(app, "--max-response", "NETPOL_PROXY_MAX_RESPONSE",
           s.max_response_bytes, "Largest /results body taken from one pod");
  app.add_option("--max-pods", b.max_pods, "Most pods in one round")
    ->envname("NETPOL_PROXY_MAX_PODS")
    ->check(CLI::Range(size_t{1}, size_t{10'000'000}))
    ->capture_default_str();
  app
    .add_option("--server-threads", b.threads,
                "Threads answering operators' requests (/status, /report, "
                "/metrics, the page); kube-burner's calls have two of "
                "their own")
    ->envname("NETPOL_PROXY_SERVER_THREADS")
    ->check(CLI::Range(1, 64))
    ->capture_default_str();
  add_duration(app, "--reply-timeout", "NETPOL_PROXY_REPLY_TIMEOUT",
               b.reply_timeout,
               "Time an HTTP request waits for the coordinator");
  add_duration(app, "--header-timeout", "NETPOL_PROXY_HEADER_TIMEOUT",
               b.header_timeout,
               "Time a caller has to send a request's line and headers "
               "(408 or close after)");
  add_duration(app, "--body-timeout", "NETPOL_PROXY_BODY_TIMEOUT",
               b.body_timeout,
               "Time to send a body of --max-body bytes; smaller bodies "
               "get proportionally less, at least --header-timeout");
  add_duration(app, "--idle-timeout", "NETPOL_PROXY_IDLE_TIMEOUT",
               b.idle_timeout,
               "Time a keep-alive connection may sit between requests");
  app
    .add_option("--max-connections", b.max_connections,
                "Connections open at once; more are answered 503 at once")
    ->envname("NETPOL_PROXY_MAX_CONNECTIONS")
    ->check(CLI::Range(size_t{16}, size_t{1'000'000}))
    ->capture_default_str();
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
        opts.state_dir = text;
        opts.state_dir_given = true;
      },
      "Directory of the round store (SQLite), so a restart resumes the "
      "round; '' keeps it in memory only. By default /dev/shm/netpol-proxy "
      "when /dev/shm is writable (it outlives a container restart)")
    ->envname("NETPOL_PROXY_STATE_DIR")
    ->type_name("DIR")
    ->default_str(default_state_dir);
  app.add_option("--log-level", opts.log_level, "Log level")
    ->envname("NETPOL_PROXY_LOG_LEVEL")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
    ->capture_default_str();
  parsed_options result;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& ex) {
    auto env = from_environment(app, ex.what(), argc, argv);
    if (!env.empty() && ex.get_exit_code() != 0) {
      std::cerr << env << "\n";
      result.exit_code = ex.get_exit_code();
      return result;
    }
    result.exit_code = app.exit(ex);
    return result;
  }
  if (s.backoff_cap < s.backoff_base) {
    std::cerr << "--backoff-cap must not be shorter than --backoff-base\n";
    result.exit_code = 2;
    return result;
  }
  result.options = std::move(opts);
  return result;
}

} // namespace netpol
