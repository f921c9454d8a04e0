// simdjson (Debian libsimdjson-dev, 3.0.1 on bookworm) on the bodies of
// results_body_bench.cpp, for issue 15's comparison with our scanner:
//
//   netpol-bench-simdjson          DOM parse alone: grammar and UTF-8, the
//                                  part simdjson would take over
//   netpol-bench-simdjson walk     and a walk reading every entry's fields
//
// Prints the best MB/s of five rounds. Built only where simdjson is
// installed: the proxy does not use it (docs/performance.md says why).
#include "bench/results_bodies.hpp"

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  bool walk = argc > 1;
  std::vector<simdjson::padded_string> bodies;
  size_t bytes = 0;
  for (int pod = 0; pod < 64; ++pod) {
    auto b = netpol::bench::results_body_of(pod);
    bytes += b.size();
    bodies.emplace_back(b);
  }
  simdjson::dom::parser parser;
  uint64_t sink = 0;
  double best = 0;
  for (int round = 0; round < 5; ++round) {
    auto start = std::chrono::steady_clock::now();
    auto until = start + std::chrono::milliseconds(600);
    size_t done = 0;
    do {
      for (auto& body : bodies) {
        simdjson::dom::element doc;
        if (parser.parse(body).get(doc)) {
          std::fprintf(stderr, "simdjson refused a body\n");
          return 1;
        }
        if (walk) {
          for (simdjson::dom::object entry : doc.get_array()) {
            for (auto field : entry) {
              sink += field.key.size();
              if (field.value.is_string())
                sink += std::string_view(field.value).size();
              else if (field.value.is_int64())
                sink += int64_t(field.value);
            }
          }
        }
        ++sink;
      }
      done += bytes;
    } while (std::chrono::steady_clock::now() < until);
    auto elapsed = std::chrono::steady_clock::now() - start;
    double rate = static_cast<double>(done)
                  / std::chrono::duration<double>(elapsed).count() / 1e6;
    if (rate > best)
      best = rate;
  }
  std::printf("%.0f MB/s simdjson DOM%s [%llu]\n", best,
              walk ? " + walk" : " parse only",
              (unsigned long long)(sink % 10));
}
