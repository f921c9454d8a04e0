// netpol-status-poller: polls the proxy's status endpoints the way kube-burner
// and an operator do, one new connection per request, and prints each
// request's latency in milliseconds, one per line, until it is signalled.
//
// It replaces a shell loop that forked two curl processes every 20 ms: on a
// two-core machine those forks cost a large share of one core and slowed the
// very phases the benchmark measures.

#include <CLI/CLI.hpp>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> stopping{false};

void on_signal(int) {
  stopping = true;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Polls proxy status endpoints and prints each latency in ms"};
  std::string host = "127.0.0.1";
  uint16_t port = 9002;
  unsigned interval_ms = 20;
  std::vector<std::string> paths{"/checkConnectionsStatus", "/status"};
  app.add_option("--host", host, "Proxy address")->capture_default_str();
  app.add_option("--port", port, "Proxy port")->required();
  app.add_option("--interval-ms", interval_ms, "Pause after each pass")
    ->capture_default_str();
  app.add_option("--path", paths, "Endpoints polled in turn each pass")
    ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  using clock = std::chrono::steady_clock;
  while (!stopping) {
    for (const auto& path : paths) {
      auto started = clock::now();
      httplib::Client cli{host, port};
      cli.set_keep_alive(false);
      cli.set_connection_timeout(std::chrono::seconds(2));
      cli.set_read_timeout(std::chrono::seconds(5));
      auto res = cli.Get(path);
      std::chrono::duration<double, std::milli> took = clock::now() - started;
      if (res && res->status == 200)
        std::printf("%.3f\n", took.count());
      else
        std::printf("failed %s\n", path.c_str());
      std::fflush(stdout);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  return 0;
}
