// The prober: I/O behind an interface, so that the scheduler
// (client/probe_scheduler.hpp) runs against the real one
// (client/tcp_prober.hpp) in the product and against an in-memory twin in
// its tests (tests/client/simulated_prober.hpp).
#pragma once

#include "client/check_list.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace netpol::client {

/// Names one probe: one connection attempt of one target.
using probe_id = uint64_t;

/// Why a probe ended without success.
enum class probe_failure : uint8_t {
  refused,      // the SYN was answered by a reset (a `reject` rule, nothing listening)
  unreachable,  // no route to the target, or an ICMP error
  closed,       // connected, then closed or reset before the whole header
  bad_response, // the answer is not an HTTP response header
  not_ok,       // an HTTP status other than 200
  no_address,   // the host name did not resolve
  local_error,  // no socket could be made here (file descriptors, ports)
};
inline constexpr size_t probe_failure_kinds = 7;

/// Names for /status and the log, indexed by probe_failure.
inline constexpr std::array<const char*, probe_failure_kinds>
  probe_failure_names = {"refused",      "unreachable", "closed",
                         "bad_response", "not_ok",      "no_address",
                         "local_error"};

/// Where a prober reports. Every call comes from the prober's event loop,
/// never from inside prober::start or prober::abandon.
class probe_events {
public:
  virtual ~probe_events() = default;
  /// The TCP connection is up; the GET is on its way.
  virtual void probe_connected(probe_id id) = 0;
  /// The target answered 200: `at` is when its status line arrived, on the
  /// real-time clock. The probe is over.
  virtual void probe_succeeded(probe_id id,
                               std::chrono::system_clock::time_point at)
    = 0;
  /// The probe is over without success.
  virtual void probe_failed(probe_id id, probe_failure why) = 0;
};

class prober {
public:
  virtual ~prober() = default;
  /// Starts probe `id`: a new TCP connection to `target`, `GET /`, the
  /// answer's status line and header. Reports to `events`: connected at
  /// most once, then succeeded or failed once, unless abandoned first.
  virtual void start(probe_id id, const probe_target& target,
                     probe_events& events)
    = 0;
  /// Drops probe `id` and its socket; nothing is reported for it after
  /// this. A probe that already ended is ignored.
  virtual void abandon(probe_id id) = 0;
};

} // namespace netpol::client
