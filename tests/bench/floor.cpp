// netpol-bench-floor: the fastest a proxy could go on this machine. W plain
// threads call every pod of an /initiate file with the proxy's own pod client
// (POST /check to all, then GET /results from all), with no actors, no
// bookkeeping and no HTTP server. The benchmark reports the proxy's phase
// times against these as well as against N x L / W: on a small machine the
// simulated fleet and the kernel's loopback cost time that no proxy can save.

#include "actors/curl_pod_client.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

struct pod {
  std::string ip;
  std::string connections;
};

using call_fn
  = std::function<netpol::pod_outcome(netpol::pod_client&, const pod&)>;

// Runs `call` on every pod from `workers` threads, each with its own client
// as each proxy worker has; returns seconds and the number of calls that did
// not answer ok.
std::pair<double, uint64_t> run_phase(const std::vector<pod>& pods,
                                      unsigned workers,
                                      const netpol::proxy_settings& settings,
                                      const call_fn& call) {
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> failed{0};
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < workers; ++i)
    threads.emplace_back([&] {
      netpol::curl_pod_client client{settings};
      for (auto index = next++; index < pods.size(); index = next++)
        if (call(client, pods[index]).status != netpol::call_status::ok)
          ++failed;
    });
  for (auto& thread : threads)
    thread.join();
  std::chrono::duration<double> took = std::chrono::steady_clock::now()
                                       - started;
  return {took.count(), failed.load()};
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Calls every pod of an /initiate file from plain threads"};
  std::string initiate_path;
  netpol::proxy_settings settings;
  unsigned workers = 20;
  app.add_option("--initiate", initiate_path, "kube-burner's /initiate body")
    ->required()
    ->check(CLI::ExistingFile);
  app.add_option("--client-port", settings.client_port, "Pods' port")
    ->required();
  app.add_option("--workers", workers, "Calls in flight")
    ->capture_default_str()
    ->check(CLI::Range(1u, 4096u));
  CLI11_PARSE(app, argc, argv);
  std::ifstream file{initiate_path};
  auto body = nlohmann::json::parse(file, nullptr, false);
  if (!body.is_object()) {
    std::fprintf(stderr, "%s: not a JSON object\n", initiate_path.c_str());
    return 1;
  }
  std::vector<pod> pods;
  for (auto& [ip, connections] : body.items())
    pods.push_back({ip, connections.dump()});
  auto [deliver, deliver_failed] = run_phase(
    pods, workers, settings, [](netpol::pod_client& client, const pod& x) {
      return client.post_check(x.ip, x.connections);
    });
  auto [collect, collect_failed] = run_phase(
    pods, workers, settings, [](netpol::pod_client& client, const pod& x) {
      return client.get_results(x.ip);
    });
  std::printf("floor_deliver=%.3fs floor_collect=%.3fs floor_failed=%llu\n",
              deliver, collect,
              static_cast<unsigned long long>(deliver_failed
                                              + collect_failed));
  return deliver_failed + collect_failed == 0 ? 0 : 1;
}
