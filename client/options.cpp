#include "client/options.hpp"

#include "messages/flags.hpp"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <iostream>

namespace netpol::client {

namespace {

/// PARALLEL_CONNECTIONS as the real client reads it (strconv.Atoi): an
/// optional sign and decimal digits. A bad value stops the real client
/// (panic) and stops this one too, with the reason.
std::optional<long> parse_atoi(const std::string& text) {
  size_t i = (!text.empty() && (text[0] == '+' || text[0] == '-')) ? 1 : 0;
  if (i == text.size() || text.size() > 19)
    return std::nullopt;
  for (size_t k = i; k < text.size(); ++k)
    if (text[k] < '0' || text[k] > '9')
      return std::nullopt;
  errno = 0;
  auto value = std::strtol(text.c_str(), nullptr, 10);
  if (errno != 0)
    return std::nullopt;
  return value;
}

void add_listen_flag(CLI::App& app, client_options& opts) {
  app
    .add_option_function<std::string>(
      "-l,--listen",
      [&opts](const std::string& text) {
        auto parsed = parse_listen_address(text);
        if (!parsed)
          throw CLI::ValidationError(
            "--listen", "'" + text
                          + "' is not HOST:PORT (e.g. :9001, 0.0.0.0:9001, "
                            "[::]:9001)");
        // parse_listen_address reads ":9001" as 0.0.0.0; here it means
        // every address of both families, like the real client's ":9001".
        opts.listen_host = text.front() == ':' ? "" : parsed->first;
        opts.listen_port = parsed->second;
      },
      "Address the proxy calls /check, /results and /status on; ':9001' "
      "is every address, IPv6 and IPv4")
    ->envname("NETPOL_CLIENT_LISTEN")
    ->type_name("HOST:PORT")
    ->default_str(":9001");
}

void add_probe_flags(CLI::App& app, schedule_settings& s) {
  add_duration_flag(app, "--interval", "NETPOL_CLIENT_INTERVAL", s.interval,
                    "Time between two probes of one target; a probe with "
                    "no SYN-ACK when the next is due is abandoned");
  add_number_flag(app, "--max-probes-per-second",
                  "NETPOL_CLIENT_MAX_PROBES_PER_SECOND",
                  s.max_probes_per_second, 0, 1'000'000,
                  "Probes started per second at most, over all targets: the "
                  "interval stretches to (targets pending / this); 0 for no "
                  "cap");
  add_duration_flag(app, "--probe-timeout", "NETPOL_CLIENT_PROBE_TIMEOUT",
                    s.answer_timeout,
                    "Time a connected probe has for the target's status "
                    "line and header (the real client's HTTP timeout)");
}

} // namespace

std::string client_version_text() {
  return std::string{"netpol-client "} + NETPOL_CLIENT_VERSION + " (commit "
         + NETPOL_CLIENT_COMMIT + ")";
}

std::string describe_client_options(const client_options& o) {
  std::string out;
  auto add = [&](const char* name, const std::string& value) {
    out += (out.empty() ? "--" : " --") + std::string{name} + "=" + value;
  };
  auto host = o.listen_host.find(':') != std::string::npos
                ? "[" + o.listen_host + "]"
                : o.listen_host;
  add("listen", host + ":" + std::to_string(o.listen_port));
  add("interval", duration_flag_text(o.schedule.interval));
  add("max-probes-per-second",
      std::to_string(o.schedule.max_probes_per_second));
  add("probe-timeout", duration_flag_text(o.schedule.answer_timeout));
  add("max-body", o.max_body_bytes % (1ull << 20) == 0
                    ? std::to_string(o.max_body_bytes >> 20) + "MiB"
                    : std::to_string(o.max_body_bytes));
  add("max-tests", std::to_string(o.max_tests));
  add("progress-interval", duration_flag_text(o.progress_interval));
  add("log-level", o.log_level);
  return out;
}

parsed_client_options parse_client_options(int argc, char** argv) {
  client_options opts;
  CLI::App app{"netpol-client: a client pod for kube-burner's network-policy "
               "latency measurement. Takes its connection list on POST "
               "/check, probes every target on its own schedule, serves the "
               "first success of each on GET /results.\n"
               "Every flag can also be set by the environment variable "
               "shown."};
  app.get_formatter()->column_width(40);
  app.set_version_flag("--version", client_version_text());
  add_listen_flag(app, opts);
  add_probe_flags(app, opts.schedule);
  add_size_flag(app, "--max-body", "NETPOL_CLIENT_MAX_BODY",
                opts.max_body_bytes, "Largest /check body accepted");
  add_number_flag(app, "--max-tests", "NETPOL_CLIENT_MAX_TESTS",
                  opts.max_tests, 1, 100'000'000,
                  "Most tests (addresses x ports) a /check list may expand "
                  "to; a longer list is refused (400)");
  add_duration_flag(app, "--progress-interval",
                    "NETPOL_CLIENT_PROGRESS_INTERVAL", opts.progress_interval,
                    "Time between progress log lines while tests are "
                    "pending");
  app.add_option("--log-level", opts.log_level, "Log level")
    ->envname("NETPOL_CLIENT_LOG_LEVEL")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
    ->capture_default_str();
  app.footer("Environment: PARALLEL_CONNECTIONS, the real client's batch "
             "count, is read and checked as it reads it, and sets nothing: "
             "every target here is probed on its own, and the load is "
             "bounded by --max-probes-per-second.");
  parsed_client_options result;
  if (auto exit_code = parse_flags(app, argc, argv)) {
    result.exit_code = *exit_code;
    return result;
  }
  if (opts.schedule.interval < std::chrono::milliseconds{10}) {
    std::cerr << "--interval must be at least 10ms\n";
    result.exit_code = 2;
    return result;
  }
  if (auto* text = std::getenv("PARALLEL_CONNECTIONS"); text && *text) {
    opts.parallel_connections = parse_atoi(text);
    if (!opts.parallel_connections) {
      std::cerr << "PARALLEL_CONNECTIONS='" << text
                << "' is not an integer (the real client stops on it too)\n";
      result.exit_code = 2;
      return result;
    }
  }
  result.options = std::move(opts);
  return result;
}

} // namespace netpol::client
