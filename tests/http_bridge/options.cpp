#define CAF_SUITE options

#include "http_bridge/options.hpp"

#include "support/test.hpp"

#include <cstdlib>

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
