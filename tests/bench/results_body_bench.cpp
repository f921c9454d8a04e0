// Throughput of netpol::validate_results_body on 100-entry /results bodies
// shaped like the client pods' (the simulated fleet's form: address, port,
// connectionidx, npname, an RFC 3339 timestamp with nine fractional digits).
//
//   netpol-bench-results [SECONDS] [--visit]
//
// Validates a batch of distinct bodies over and over for SECONDS (default 3)
// and prints MB/s; --visit also passes an entry visitor (each entry's fields
// decoded, as the worker will use it). Prints the best of five rounds.
#include "actors/results_body.hpp"
#include "bench/results_bodies.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>


int main(int argc, char** argv) {
  double seconds = 3;
  bool visit = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--visit") == 0)
      visit = true;
    else
      seconds = std::atof(argv[i]);
  }
  std::vector<std::string> bodies;
  size_t bytes = 0;
  for (int pod = 0; pod < 64; ++pod) {
    bodies.push_back(netpol::bench::results_body_of(pod));
    bytes += bodies.back().size();
  }
  uint64_t sink = 0;
  netpol::results_visitor visitor = [&](const netpol::results_entry& e) {
    sink += e.address.size() + e.npname.size() + static_cast<uint64_t>(e.port)
            + e.timestamp_nanos;
  };
  double best = 0;
  for (int round = 0; round < 5; ++round) {
    using clock = std::chrono::steady_clock;
    auto start = clock::now();
    auto until = start + std::chrono::duration<double>(seconds / 5);
    size_t done = 0;
    do {
      for (auto& body : bodies) {
        auto check = visit ? netpol::validate_results_body(body, visitor)
                           : netpol::validate_results_body(body);
        if (!check.ok || check.entries != 100) {
          std::fprintf(stderr, "refused: %s\n", check.error.c_str());
          return 1;
        }
        sink += check.entries;
      }
      done += bytes;
    } while (clock::now() < until);
    double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    double rate = static_cast<double>(done) / elapsed / 1e6;
    if (rate > best)
      best = rate;
  }
  std::printf("%.0f MB/s (%zu-byte bodies, 100 entries%s) [%llu]\n", best,
              bytes / bodies.size(), visit ? ", with a visitor" : "",
              static_cast<unsigned long long>(sink % 10));
  return 0;
}
