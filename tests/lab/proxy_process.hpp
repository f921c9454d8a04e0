// The real netpol-proxy binary as a child process of the lab: started with the
// scenario's flags, its log in a file, its port read from the startup line,
// stopped with SIGTERM as an operator would (or killed, for the crash test).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netpol::lab {

class proxy_process {
public:
  proxy_process() = default;
  proxy_process(const proxy_process&) = delete;
  proxy_process& operator=(const proxy_process&) = delete;
  ~proxy_process(); // kills a child still running

  /// Starts `binary args...` with stdout and stderr written to `log_path`.
  /// The child gets SIGKILL if the calling thread ends first (so no proxy
  /// outlives the lab): call it from the main thread.
  bool start(const std::string& binary, const std::vector<std::string>& args,
             const std::string& log_path, std::string& error);

  /// Waits for the log line "... Client server started on :PORT".
  std::optional<uint16_t> wait_for_port(std::chrono::milliseconds limit,
                                        std::string& error);

  /// SIGTERM, then SIGKILL after `grace`; returns how it ended ("exit 0",
  /// "killed after 5s: signal 9", ...).
  std::string stop(std::chrono::milliseconds grace);

  /// Sends `sig` (SIGKILL by default: a crash, as kill -9 or the OOM killer
  /// would) and waits until the child has ended; returns how it ended
  /// ("signal 9 (Killed)", "exit 0", ...). A proxy's file locks are released
  /// once this returns, so a new one can take its state directory.
  std::string kill(int sig = SIGKILL);

  /// The last `lines` lines of the log, for error messages.
  std::string log_tail(size_t lines = 10) const;

  bool running() const {
    return pid_ > 0;
  }

  /// The child's process id (for /proc sampling); -1 when not running.
  pid_t pid() const {
    return pid_;
  }

private:
  /// Reaps the child if it has exited; returns its end as text.
  std::optional<std::string> reap(bool block);

  pid_t pid_ = -1;
  std::string log_path_;
};

} // namespace netpol::lab
