#define CAF_SUITE client_options

#include "client/options.hpp"

#include "support/test.hpp"

#include <cstdlib>

using namespace netpol::client;
using namespace std::chrono_literals;

namespace {

parsed_client_options parse(std::vector<std::string> args) {
  args.insert(args.begin(), "netpol-client");
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  return parse_client_options(static_cast<int>(argv.size()), argv.data());
}

/// Sets an environment variable for one scope.
struct scoped_env {
  scoped_env(const char* name, const char* value) : name(name) {
    setenv(name, value, 1);
  }
  ~scoped_env() {
    unsetenv(name);
  }
  const char* name;
};

} // namespace

TEST(defaults are every address on port 9001 as the real client) {
  auto p = parse({});
  REQUIRE(p.options);
  CHECK_EQUAL(p.options->listen_host, "");
  CHECK_EQUAL(p.options->listen_port, 9001);
  CHECK_EQUAL(p.options->schedule.interval, std::chrono::nanoseconds{200ms});
  CHECK_EQUAL(p.options->schedule.max_probes_per_second, 500u);
  CHECK_EQUAL(p.options->schedule.answer_timeout,
              std::chrono::nanoseconds{1500ms});
  CHECK(!p.options->parallel_connections);
  CHECK_EQUAL(describe_client_options(*p.options),
              "--listen=:9001 --interval=200ms --max-probes-per-second=500 "
              "--probe-timeout=1500ms --max-body=8MiB --max-tests=100000 "
              "--progress-interval=10s --log-level=info");
}

TEST(flags and their environment variables) {
  auto p = parse({"--listen", "127.0.0.1:9101", "--interval", "250ms",
                  "--max-probes-per-second", "0", "--probe-timeout", "2s"});
  REQUIRE(p.options);
  CHECK_EQUAL(p.options->listen_host, "127.0.0.1");
  CHECK_EQUAL(p.options->listen_port, 9101);
  CHECK_EQUAL(p.options->schedule.interval, std::chrono::nanoseconds{250ms});
  CHECK_EQUAL(p.options->schedule.max_probes_per_second, 0u);
  CHECK_EQUAL(p.options->listen_host, "127.0.0.1");
  {
    scoped_env interval{"NETPOL_CLIENT_INTERVAL", "200ms"};
    scoped_env cap{"NETPOL_CLIENT_MAX_PROBES_PER_SECOND", "300"};
    scoped_env listen{"NETPOL_CLIENT_LISTEN", "[::1]:9200"};
    auto e = parse({});
    REQUIRE(e.options);
    CHECK_EQUAL(e.options->schedule.interval, std::chrono::nanoseconds{200ms});
    CHECK_EQUAL(e.options->schedule.max_probes_per_second, 300u);
    CHECK_EQUAL(e.options->listen_host, "::1");
    MESSAGE("a flag wins over its variable");
    auto f = parse({"--interval", "150ms"});
    REQUIRE(f.options);
    CHECK_EQUAL(f.options->schedule.interval, std::chrono::nanoseconds{150ms});
  }
}

TEST(bad values stop it with a non-zero exit) {
  CHECK_NOT_EQUAL(parse({"--interval", "fast"}).exit_code, 0);
  CHECK_NOT_EQUAL(parse({"--interval", "5ms"}).exit_code, 0);
  CHECK_NOT_EQUAL(parse({"--listen", "9001"}).exit_code, 0);
  CHECK_NOT_EQUAL(parse({"--max-probes-per-second", "-1"}).exit_code, 0);
  CHECK_NOT_EQUAL(parse({"--no-such-flag"}).exit_code, 0);
  CHECK(!parse({"--interval", "fast"}).options);
  scoped_env bad{"NETPOL_CLIENT_PROBE_TIMEOUT", "soon"};
  CHECK_NOT_EQUAL(parse({}).exit_code, 0);
}

TEST(PARALLEL_CONNECTIONS is read as the real client reads it) {
  {
    scoped_env set{"PARALLEL_CONNECTIONS", "20"};
    auto p = parse({});
    REQUIRE(p.options);
    CHECK_EQUAL(*p.options->parallel_connections, 20);
    MESSAGE("it sets nothing: the schedule is the same");
    CHECK_EQUAL(p.options->schedule.max_probes_per_second, 500u);
  }
  {
    scoped_env set{"PARALLEL_CONNECTIONS", "ten"};
    auto p = parse({});
    CHECK(!p.options);
    CHECK_EQUAL(p.exit_code, 2);
  }
}
