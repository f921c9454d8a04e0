// The HTTP front: accepts kube-burner's and operators' connections, reads
// each request under total deadlines, and hands complete requests to the
// routes on threads of their lane. Its capacity is a connection cap, not a
// thread count: an idle or trickling client costs a socket and a timer.
#pragma once

#include "http_bridge/http_types.hpp"

#include <caf/timespan.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace netpol {

using namespace std::chrono_literals;

/// Which threads answer a route: kube-burner's calls and the probes never
/// queue behind operators' requests (/status, /report, /metrics, the page).
enum class lane : uint8_t { kube_burner, operators };

/// What the front needs to know about a request before it reads the body.
struct route_info {
  bool found = false;      // the path exists
  bool allowed = false;    // ... and takes this method
  std::string allow;       // the methods it takes, for a 405
  lane which = lane::operators;
  bool takes_body = false; // its body is read (/initiate); others get 64 KiB
};

/// The routes, as the front sees them.
class request_router {
public:
  virtual ~request_router() = default;

  virtual route_info lookup(std::string_view method,
                            std::string_view path) const = 0;

  /// Answers one complete request; runs on a thread of the route's lane.
  virtual http_reply handle(http_request& request) const = 0;

  /// The front refused a request to a route that takes a body before the
  /// route saw it (411, 413, 408, 503). Runs on the I/O thread: must not
  /// block.
  virtual void refused(const std::string& path, int status,
                       const std::string& message) const {
    (void) path, (void) status, (void) message;
  }
};

struct front_settings {
  size_t max_connections = 4096;
  caf::timespan header_timeout = 10s; // request line and headers, in all
  caf::timespan body_timeout = 120s;  // a body of max_body_bytes; scaled
  caf::timespan idle_timeout = 60s;   // a keep-alive connection between requests
  caf::timespan write_timeout = 60s;  // each piece of an answer
  caf::timespan body_slot_wait = 5s;  // waiting for the one body slot
  uint64_t max_body_bytes = 256ull << 20;
  unsigned operator_threads = 2;
  unsigned kube_burner_threads = 2;
  size_t max_queued_per_lane = 256; // requests waiting for a lane thread
};

/// Counters since start, for /metrics.
struct front_counters {
  uint64_t open_connections = 0;
  uint64_t accepted = 0;
  uint64_t refused_at_cap = 0;
  uint64_t closed_header_deadline = 0;
  uint64_t closed_body_deadline = 0;
  uint64_t closed_idle = 0;
  uint64_t closed_write_deadline = 0;
  uint64_t refused_busy = 0; // 503: lane queue full or no body slot in time
  uint64_t requests = 0;
  size_t max_connections = 0;
};

/// The deadline for a body of `length` bytes: `body_timeout` for a body of
/// `max_body` bytes, proportionally less for smaller ones, but never less
/// than `floor`; unknown lengths (chunked) get the whole `body_timeout`.
caf::timespan body_deadline(const front_settings& settings, uint64_t length,
                            bool length_known, caf::timespan floor);

class front {
public:
  front(front_settings settings, std::shared_ptr<const request_router> router);

  ~front();

  front(const front&) = delete;
  front& operator=(const front&) = delete;

  /// Binds host:port (port 0 picks a free one); returns the port, or 0 and
  /// sets `error`.
  uint16_t bind(const std::string& host, uint16_t port, std::string& error);

  /// Serves until stop(); returns false if serving failed.
  bool run();

  /// Stops accepting, answers requests in flight (briefly), then makes
  /// run() return. Safe from any thread, also before run() started.
  void stop();

  front_counters counters() const;

  struct impl; // the server's state, in front_impl.hpp

private:
  std::shared_ptr<impl> impl_;
};

/// Raises RLIMIT_NOFILE's soft limit as far as `wanted` (up to the hard
/// limit); returns the soft limit now in effect.
uint64_t raise_fd_limit(uint64_t wanted);

} // namespace netpol
