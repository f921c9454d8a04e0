// The /results bodies the validation benchmarks read: 100 entries shaped
// like the client pods' (address, port, connectionidx, npname, an RFC 3339
// timestamp with nine fractional digits), distinct per pod.
#pragma once

#include <cstdio>
#include <string>

namespace netpol::bench {

inline std::string results_body_of(int pod, int entries = 100) {
  std::string body = "[";
  char buf[256];
  for (int i = 0; i < entries; ++i) {
    std::snprintf(buf, sizeof buf,
                  "%s{\"address\":\"10.%d.%d.%d\",\"port\":%d,"
                  "\"connectionidx\":%d,\"npname\":\"ingress-%d-%d\","
                  "\"timestamp\":\"2024-10-01T11:%02d:%02d.%09dZ\"}",
                  i == 0 ? "" : ",", 128 + pod % 64, pod % 250, i + 1,
                  8080 + i % 3, i / 3, pod % 240, i / 3, (i / 60) % 60, i % 60,
                  247061614 + pod * 1000 + i);
    body += buf;
  }
  body += "]\n";
  return body;
}

} // namespace netpol::bench
