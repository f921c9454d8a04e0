// The round store's cost per call, without a fleet or actors: drives
// sqlite_round_store as the coordinator does in a round of pods that
// answer at once (waves of answers, each wave's ends and the next wave's
// starts in one commit), and prints CPU microseconds per call for each
// phase, the commits, and the store's size.
// Usage: netpol-bench-store DIR [PODS] [WAVE] [ENTRIES]   (DIR new or empty;
// START_ROW=1 also writes the pod's row as a call starts, as before 3ad4968;
// GROUP=N commits collection once per N waves)
#include "actors/round_store.hpp"
#include "actors/sqlite_round_store.hpp"
#include "bench/results_bodies.hpp"

#include <time.h>

#include <chrono>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

using namespace netpol;

namespace {

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [PODS] [WAVE] [ENTRIES]\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  uint32_t pods = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 75000;
  uint32_t wave = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 4;
  int entries = argc > 4 ? std::atoi(argv[4]) : 20;
  // A new store each run; never someone's files.
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)
      && !std::filesystem::is_empty(dir, ec)) {
    std::fprintf(stderr, "%s: DIR must be new or empty\n", dir.c_str());
    return 2;
  }
  auto opened = sqlite_round_store::open(dir);
  if (!opened.store) {
    std::fprintf(stderr, "cannot open the store: %s\n", opened.problem.c_str());
    return 1;
  }
  auto& store = *opened.store;
  round_meta meta;
  meta.round = 1;
  meta.current = phase::delivering;
  std::vector<pod_record> records(pods);
  for (uint32_t i = 0; i < pods; ++i) {
    records[i].ip = "10." + std::to_string(128 + i / 65536) + "."
                    + std::to_string(i / 256 % 256) + "."
                    + std::to_string(i % 256);
    // A packed list of a pod's tests is some tens of bytes.
    records[i].expected = shared_bytes{std::string(24, '\x01')};
    records[i].canonical = true;
  }
  round_catalog catalog;
  store.begin_round(meta, catalog, records);
  store.commit();
  // Made before the clock runs: the bodies are the pods', not the store's.
  std::vector<std::string> bodies;
  bodies.reserve(pods);
  for (uint32_t i = 0; i < pods; ++i)
    bodies.push_back(bench::results_body_of(static_cast<int>(i), entries));
  uint64_t commits = 0;
  uint32_t collect_group = 1;
  if (auto* group = std::getenv("GROUP"))
    collect_group = std::max(1ul, std::strtoul(group, nullptr, 10));
  double compress_cpu = 0;
  // One phase: each step ends the last wave's calls and starts the next's,
  // then commits, as a wave of answers does in the coordinator.
  auto run = [&](stage kind) {
    auto started = cpu_seconds();
    auto ended_state = kind == stage::delivery ? pod_state::delivered
                                               : pod_state::collected;
    auto busy_state = kind == stage::delivery ? pod_state::delivering
                                              : pod_state::collecting;
    for (uint32_t first = 0; first <= pods; first += wave) {
      for (uint32_t i = first >= wave ? first - wave : pods; i < first; ++i) {
        pod_outcome out;
        out.status = call_status::ok;
        out.http_status = 200;
        out.request_sent = true;
        out.elapsed = std::chrono::microseconds(900);
        store.call_ended(1, i, kind, 1, out);
        auto& pod = records[i];
        pod.state = ended_state;
        if (kind == stage::delivery) {
          pod.delivery_outcome = pod_state::delivered;
          pod.delivered_after = std::chrono::milliseconds(i / 10);
        } else {
          pod.collected_after = std::chrono::milliseconds(i / 10);
          pod.results_entries = static_cast<uint32_t>(entries);
          auto& body = bodies[i];
          auto c0 = cpu_seconds();
          auto packed = compress_blob(body);
          compress_cpu += cpu_seconds() - c0;
          store.save_collected(1, i, packed);
        }
        store.save_pod(1, i, pod);
      }
      for (uint32_t i = first; i < first + wave && i < pods; ++i) {
        auto& pod = records[i];
        pod.state = busy_state;
        ++(kind == stage::delivery ? pod.delivery_attempts
                                   : pod.collection_attempts);
        if (std::getenv("START_ROW"))
          store.save_pod(1, i, pod);
        store.call_started(1, i, kind, 1, 1700000000000 + i);
      }
      ++meta.calls;
      // Collection commits once per GROUP waves (the coordinator's grouped
      // commits); delivery once a wave, before its /check calls go out.
      auto waves = first / wave + 1;
      if (kind == stage::delivery || waves % collect_group == 0
          || first + wave > pods) {
        store.save_round(meta);
        store.commit();
        ++commits;
      }
    }
    return cpu_seconds() - started;
  };
  auto deliver = run(stage::delivery);
  meta.current = phase::collecting;
  auto collect = run(stage::collection);
  auto us = [&](double secs) { return secs * 1e6 / pods; };
  std::printf("pods=%u wave=%u entries=%d deliver_us_per_call=%.1f "
              "collect_us_per_call=%.1f (of which compress %.1f) commits=%llu "
              "store_bytes=%llu health=%s\n",
              pods, wave, entries, us(deliver), us(collect), us(compress_cpu),
              static_cast<unsigned long long>(commits),
              static_cast<unsigned long long>(store.bytes_on_disk()),
              store.health().c_str());
  return store.health().rfind("on:", 0) == 0 ? 0 : 1;
}
