#define CAF_SUITE options

#include "http_bridge/options.hpp"

#include "support/test.hpp"

#include <cstdlib>
#include <iostream>
#include <sstream>

using namespace netpol;
using namespace std::chrono_literals;

namespace {

parsed_options parse(std::vector<std::string> args) {
  args.insert(args.begin(), "netpol-proxy");
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

} // namespace

TEST(durations) {
  CHECK_EQUAL(parse_duration("500ms"), caf::timespan{500ms});
  CHECK_EQUAL(parse_duration("10s"), caf::timespan{10s});
  CHECK_EQUAL(parse_duration("1m30s"), caf::timespan{90s});
  CHECK_EQUAL(parse_duration("1.5s"), caf::timespan{1500ms});
  CHECK_EQUAL(parse_duration("2h"), caf::timespan{2h});
  CHECK_EQUAL(parse_duration("0s"), caf::timespan{0});
  CHECK_EQUAL(parse_duration("250us"), caf::timespan{250us});
  CHECK_EQUAL(parse_duration("7ns"), caf::timespan{7ns});
  CHECK_EQUAL(parse_duration(".5s"), caf::timespan{500ms});
  CHECK_EQUAL(parse_duration("1.s"), caf::timespan{1s});
  CHECK_EQUAL(parse_duration("1h1m1s1ms1us1ns"),
              caf::timespan{1h + 1min + 1s + 1ms + 1us + 1ns});
  for (auto bad : {"", "10", "s", "10x", "-1s", "+1s", "1..5s", "ms", "1s 2s",
                   " 1s", "1S", "3d", ".s", "00", "0.0"})
    CHECK(!parse_duration(bad));
  MESSAGE("a bare 0 is zero (as in Go's time.ParseDuration and the lab's "
          "scenarios); the flags that must be positive still refuse it");
  CHECK_EQUAL(parse_duration("0"), caf::timespan{0});
  auto zero = parse({"--backoff-base", "0"});
  REQUIRE(zero.options);
  CHECK_EQUAL(zero.options->settings.backoff_base, caf::timespan{0});
  CHECK(!parse({"--connect-timeout", "0"}).options);
  MESSAGE("exact: fractions add up without floating-point error, rounded "
          "to the nearest nanosecond, half up");
  CHECK_EQUAL(parse_duration("0.1s0.2s"), caf::timespan{300ms});
  CHECK_EQUAL(parse_duration("1.0000000005s"), caf::timespan{1000000001ns});
  CHECK_EQUAL(parse_duration("1.0000000004999s"), caf::timespan{1s});
  CHECK_EQUAL(parse_duration("0.5ns0.5ns"), caf::timespan{1ns});
  CHECK_EQUAL(parse_duration("0.000000000000000001h"), caf::timespan{0});
  MESSAGE("at most a year; numbers of more than 32 characters are refused, "
          "never thrown");
  CHECK_EQUAL(parse_duration("8760h"), caf::timespan{8760h});
  CHECK_EQUAL(parse_duration("8759h60m"), caf::timespan{8760h});
  CHECK(!parse_duration("8760h1ns"));
  CHECK(!parse_duration("8761h"));
  CHECK(!parse_duration("99999999999999999999999999999999h")); // 32 digits
  CHECK(!parse_duration(std::string(5000, '9') + "s"));
  CHECK(!parse_duration("0." + std::string(5000, '0') + "1s"));
  CHECK_EQUAL(parse_duration(std::string(31, '0') + "1s"), caf::timespan{1s});
  CHECK(!parse_duration(std::string(32, '0') + "1s"));
}

TEST(sizes) {
  CHECK_EQUAL(parse_size("1048576"), uint64_t{1} << 20);
  CHECK_EQUAL(parse_size("64KiB"), uint64_t{64} << 10);
  CHECK_EQUAL(parse_size("256MiB"), uint64_t{256} << 20);
  CHECK_EQUAL(parse_size("1GB"), uint64_t{1000000000});
  for (auto bad : {"", "MiB", "1.5MiB", "-1", "12TiB", "99999999999999999999"})
    CHECK(!parse_size(bad));
}

TEST(listen addresses) {
  auto v4 = parse_listen_address("0.0.0.0:9002");
  REQUIRE(v4);
  CHECK_EQUAL(v4->first, "0.0.0.0");
  CHECK_EQUAL(v4->second, 9002u);
  auto v6 = parse_listen_address("[::]:9002");
  REQUIRE(v6);
  CHECK_EQUAL(v6->first, "::");
  auto any = parse_listen_address(":9002");
  REQUIRE(any);
  CHECK_EQUAL(any->first, "0.0.0.0");
  for (auto bad : {"9002", "::1:9002", "host:", "host:99999", "h:9x"})
    CHECK(!parse_listen_address(bad));
}

TEST(flags set the settings) {
  auto parsed = parse({"--listen", "127.0.0.1:19002", "--workers", "40",
                       "--connect-timeout", "250ms", "--retries", "5",
                       "--backoff-base", "1s", "--backoff-cap", "1m",
                       "--max-body", "1MiB", "--client-port", "19001"});
  REQUIRE(parsed.options);
  auto& opts = *parsed.options;
  CHECK_EQUAL(opts.listen_host, "127.0.0.1");
  CHECK_EQUAL(opts.listen_port, 19002u);
  CHECK_EQUAL(opts.settings.workers, 40u);
  CHECK_EQUAL(opts.settings.connect_timeout, caf::timespan{250ms});
  CHECK_EQUAL(opts.settings.retries, 5u);
  CHECK_EQUAL(opts.settings.backoff_cap, caf::timespan{60s});
  CHECK_EQUAL(opts.bridge.front.max_body_bytes, uint64_t{1} << 20);
  CHECK_EQUAL(opts.settings.client_port, 19001u);
}

TEST(environment variables fill flags not given) {
  setenv("NETPOL_PROXY_WORKERS", "7", 1);
  setenv("NETPOL_PROXY_REQUEST_TIMEOUT", "2s", 1);
  auto parsed = parse({"--retries", "1"});
  unsetenv("NETPOL_PROXY_WORKERS");
  unsetenv("NETPOL_PROXY_REQUEST_TIMEOUT");
  REQUIRE(parsed.options);
  CHECK_EQUAL(parsed.options->settings.workers, 7u);
  CHECK_EQUAL(parsed.options->settings.request_timeout, caf::timespan{2s});
  CHECK_EQUAL(parsed.options->settings.retries, 1u);
}

TEST(bad flags exit non-zero without options) {
  for (auto args : std::vector<std::vector<std::string>>{
         {"--workers", "0"},
         {"--connect-timeout", "10"},
         {"--listen", "nowhere"},
         {"--log-level", "loud"},
         {"--backoff-base", "5s", "--backoff-cap", "1s"},
         {"--no-such-flag"}}) {
    auto parsed = parse(args);
    CHECK(!parsed.options);
    CHECK_NOT_EQUAL(parsed.exit_code, 0);
  }
  auto help = parse({"--help"});
  CHECK(!help.options);
  CHECK_EQUAL(help.exit_code, 0);
}

namespace {

/// What parsing `args` writes to stderr (a bad flag's message).
std::string error_of(std::vector<std::string> args) {
  std::ostringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  auto parsed = parse(std::move(args));
  std::cerr.rdbuf(old);
  CHECK(!parsed.options);
  CHECK_NOT_EQUAL(parsed.exit_code, 0);
  return err.str();
}

} // namespace

TEST(a bad number names its flag and the numbers it takes) {
  auto says = [](std::vector<std::string> args, const std::string& expected) {
    auto error = error_of(args);
    if (error.find(expected) == std::string::npos)
      CAF_FAIL("expected '" << expected << "' in: " << error);
  };
  says({"--workers", "many"}, "--workers: 'many' is not a number from 1 to 2000");
  says({"-w", "0"}, "--workers: '0' is not a number from 1 to 2000");
  says({"--workers", "20x"}, "--workers: '20x' is not a number from 1 to 2000");
  says({"--workers", "-1"}, "--workers: '-1' is not a number from 1 to 2000");
  says({"--workers", "99999999999999999999999"},
       "--workers: '99999999999999999999999' is not a number from 1 to 2000");
  says({"--client-port", "65536"},
       "--client-port: '65536' is not a number from 1 to 65535");
  says({"--retries", "three"}, "--retries: 'three' is not a number from 0 to 100");
  says({"--max-pods", "1e6"},
       "--max-pods: '1e6' is not a number from 1 to 10000000");
  says({"--server-threads", "65"},
       "--server-threads: '65' is not a number from 1 to 64");
  says({"--max-connections", "15"},
       "--max-connections: '15' is not a number from 16 to 1000000");
  MESSAGE("from the environment, the variable is named too");
  setenv("NETPOL_PROXY_WORKERS", "many", 1);
  auto error = error_of({});
  unsetenv("NETPOL_PROXY_WORKERS");
  CHECK_EQUAL(error.rfind("NETPOL_PROXY_WORKERS=many (the environment "
                          "variable of --workers): --workers: 'many' is not "
                          "a number from 1 to 2000",
                          0),
              0u);
  MESSAGE("the bounds themselves are taken");
  auto bounds = parse({"--workers", "2000", "--retries", "0",
                       "--client-port", "65535", "--max-connections", "16"});
  REQUIRE(bounds.options);
  CHECK_EQUAL(bounds.options->settings.workers, 2000u);
  CHECK_EQUAL(bounds.options->settings.retries, 0u);
  CHECK_EQUAL(bounds.options->settings.client_port, 65535u);
  CHECK_EQUAL(bounds.options->bridge.front.max_connections, 16u);
}

TEST(the store is turned off by flag or by environment alone) {
  auto state_dir = [](std::vector<std::string> args) {
    auto parsed = parse(std::move(args));
    REQUIRE(parsed.options);
    return std::make_pair(parsed.options->state_dir,
                          parsed.options->state_dir_off);
  };
  using result = std::pair<std::string, std::string>;
  CHECK_EQUAL(state_dir({}), result(default_state_dir, ""));
  CHECK_EQUAL(state_dir({"--state-dir", "/tmp/x"}), result("/tmp/x", ""));
  CHECK_EQUAL(state_dir({"--state-dir", "off"}), result("", "--state-dir off"));
  CHECK_EQUAL(state_dir({"--state-dir", ""}), result("", "--state-dir ''"));
  CHECK_EQUAL(state_dir({"--state-dir=''"}), result("", "--state-dir ''"));
  MESSAGE("a pod spec: the variable set to off, to nothing, or to '' quoted");
  for (auto [value, named] : std::vector<result>{
         {"off", "NETPOL_PROXY_STATE_DIR=off"},
         {"", "NETPOL_PROXY_STATE_DIR="},
         {"''", "NETPOL_PROXY_STATE_DIR=''"},
         {"\"\"", "NETPOL_PROXY_STATE_DIR=\"\""}}) {
    setenv("NETPOL_PROXY_STATE_DIR", value.c_str(), 1);
    CHECK_EQUAL(state_dir({}), result("", named));
    MESSAGE("the flag still wins over the variable");
    CHECK_EQUAL(state_dir({"--state-dir", "/tmp/x"}), result("/tmp/x", ""));
    unsetenv("NETPOL_PROXY_STATE_DIR");
  }
  setenv("NETPOL_PROXY_STATE_DIR", "/tmp/y", 1);
  CHECK_EQUAL(state_dir({}), result("/tmp/y", ""));
  unsetenv("NETPOL_PROXY_STATE_DIR");
}
