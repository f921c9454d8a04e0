// Tunables of the coordinator and the pod workers. Filled from flags and
// environment variables by http_bridge/options.cpp.
#pragma once

#include <caf/timespan.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

namespace netpol {

using namespace std::chrono_literals;

/// `10s`, `1500ms`: a duration as messages show it.
std::string describe_duration(caf::timespan x);

struct proxy_settings {
  uint16_t client_port = 9001;    // where client pods listen
  uint32_t workers = 20;          // pod calls in flight at most
  caf::timespan connect_timeout = 3s;
  caf::timespan request_timeout = 10s; // whole answer, after connecting
  uint32_t retries = 3;                // attempts per stage = retries + 1
  caf::timespan backoff_base = 500ms;  // first retry delay, doubled each time
  caf::timespan backoff_cap = 8s;
  uint64_t max_response_bytes = 64ull << 20; // one pod's /results body
  caf::timespan progress_interval = 2s;      // between progress log lines
  // Between the end of one sweep of the pods' /results during the job and
  // the next (0: no sampling). A minute: at 75,000 pods about a third of a
  // core, at 2,000 about 1 %, and a pod lost in the job loses at most its
  // last minute (docs/operations.md, "Sampling during the job").
  caf::timespan sample_interval = 60s;

  uint32_t max_attempts() const {
    return retries + 1;
  }

  /// Delay before the attempt after `failed_attempts` failures (1-based):
  /// base, 2×base, 4×base, ... capped.
  caf::timespan backoff(uint32_t failed_attempts) const;

  /// The deadline of one pod call, enforced inside the call.
  caf::timespan call_deadline() const {
    return connect_timeout + request_timeout;
  }

  /// How long the coordinator waits for a worker's answer before it treats
  /// the worker as stuck: a safety net that never fires before the call's
  /// own deadline, with room for a loaded machine.
  caf::timespan worker_deadline() const {
    return call_deadline() + std::max<caf::timespan>(5s, call_deadline() / 2);
  }
};

} // namespace netpol
