// A Go oracle (tests/oracle/*.go) as a subprocess in --serve mode: its
// standard input and output as two pipes, read and written whole. Shared by
// the kube-burner oracle (go_oracle.hpp) and the client's (client_oracle.hpp),
// which each speak their own frames over it.
#pragma once

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace netpol::oracle {

class subprocess {
public:
  subprocess() = default;
  subprocess(const subprocess&) = delete;
  subprocess& operator=(const subprocess&) = delete;
  ~subprocess() {
    stop();
  }

  /// Starts `path --serve`; false (with `error`) if it cannot.
  bool start(const std::string& path) {
    std::signal(SIGPIPE, SIG_IGN); // a dead oracle is an error, not a signal
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0)
      return failed("pipe");
    if (pipe(from_child) != 0) {
      close(to_child[0]);
      close(to_child[1]);
      return failed("pipe");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]})
      posix_spawn_file_actions_addclose(&actions, fd);
    std::string serve = "--serve";
    char* argv[] = {const_cast<char*>(path.c_str()), serve.data(), nullptr};
    int rc = posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    close(from_child[1]);
    to_ = to_child[1];
    from_ = from_child[0];
    if (rc != 0) {
      pid_ = -1;
      error = "cannot start " + path + ": " + std::strerror(rc);
      stop();
      return false;
    }
    return true;
  }

  bool write_all(const void* data, size_t size) {
    return transfer(const_cast<void*>(data), size,
                    [this](char* p, size_t n) { return write(to_, p, n); });
  }

  bool read_all(void* data, size_t size) {
    return transfer(data, size,
                    [this](char* p, size_t n) { return read(from_, p, n); });
  }

  /// Sets `error` to `what`, why the last read or write failed, and how the
  /// oracle ended if it has.
  void failure(const char* what) {
    error = std::string{what} + " (" + io_error_ + ")";
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (WIFEXITED(status))
        error += ": it exited with status " + std::to_string(WEXITSTATUS(status));
      else if (WIFSIGNALED(status))
        error += ": it was killed by signal " + std::to_string(WTERMSIG(status));
    }
  }

  /// Closes its standard input (it exits at EOF) and waits for it.
  void stop() {
    for (int* fd : {&to_, &from_})
      if (*fd >= 0) {
        close(*fd);
        *fd = -1;
      }
    if (pid_ > 0) {
      int status;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
  }

  std::string error;

private:
  /// Moves `size` bytes with `op` (read or write) until done.
  template <class Op>
  bool transfer(void* data, size_t size, Op op) {
    auto p = static_cast<char*>(data);
    while (size > 0) {
      ssize_t n = op(p, size);
      if (n < 0 && errno == EINTR) // libFuzzer's timer signals interrupt calls
        continue;
      if (n <= 0) {
        io_error_ = n < 0 ? std::strerror(errno) : "end of file";
        return false;
      }
      p += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }

  bool failed(const char* what) {
    error = std::string{what} + ": " + std::strerror(errno);
    return false;
  }

  std::string io_error_;
  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
};

} // namespace netpol::oracle
