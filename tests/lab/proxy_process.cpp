#include "lab/proxy_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace netpol::lab {

namespace {

std::string describe_status(int status) {
  if (WIFEXITED(status))
    return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string{"signal "} + std::to_string(WTERMSIG(status)) + " ("
           + strsignal(WTERMSIG(status)) + ")";
  return "status " + std::to_string(status);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace

proxy_process::~proxy_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
}

bool proxy_process::start(const std::string& binary,
                          const std::vector<std::string>& args,
                          const std::string& log_path, std::string& error) {
  if (::access(binary.c_str(), X_OK) != 0) {
    error = "cannot run the proxy " + binary + ": " + std::strerror(errno)
            + " (build it, or pass --proxy PATH)";
    return false;
  }
  // Everything the child needs is prepared before fork: after it, in a
  // process with threads, only async-signal-safe calls are allowed.
  std::vector<std::string> argv_text;
  argv_text.push_back(binary);
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_text)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  int log_fd = ::open(log_path.c_str(),
                      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    error = "cannot write " + log_path + ": " + std::strerror(errno);
    return false;
  }
  auto parent = ::getpid();
  auto pid = ::fork();
  if (pid < 0) {
    error = std::string{"fork: "} + std::strerror(errno);
    ::close(log_fd);
    return false;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) // the lab died before prctl took effect
      ::_exit(127);
    ::dup2(log_fd, STDOUT_FILENO); // dup2 clears close-on-exec on the copies
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  pid_ = pid;
  log_path_ = log_path;
  return true;
}

std::optional<uint16_t>
proxy_process::wait_for_port(std::chrono::milliseconds limit,
                             std::string& error) {
  static const std::regex started{"Client server started on :([0-9]+)"};
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto log = read_file(log_path_);
    std::smatch match;
    if (std::regex_search(log, match, started))
      return static_cast<uint16_t>(std::stoul(match[1].str()));
    if (auto ended = reap(false)) {
      error = "the proxy ended (" + *ended + ") before it served:\n"
              + log_tail();
      return std::nullopt;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      error = "the proxy did not log its port within "
              + std::to_string(limit.count()) + "ms:\n" + log_tail();
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string proxy_process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0)
    return "not running";
  if (auto ended = reap(false))
    return "had already ended: " + *ended;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto ended = reap(false))
      return *ended;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  auto ended = reap(true);
  return "still running " + std::to_string(grace.count())
         + "ms after SIGTERM, killed: " + ended.value_or("?");
}

std::string proxy_process::kill(int sig) {
  if (pid_ <= 0)
    return "not running";
  if (auto ended = reap(false))
    return "had already ended: " + *ended;
  ::kill(pid_, sig);
  return reap(true).value_or("?");
}

std::string proxy_process::log_tail(size_t lines) const {
  std::istringstream in{read_file(log_path_)};
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (last.size() > lines)
      last.pop_front();
  }
  std::string out;
  for (auto& line : last)
    out += "  " + line + "\n";
  return out;
}

std::optional<std::string> proxy_process::reap(bool block) {
  if (pid_ <= 0)
    return std::nullopt;
  int status = 0;
  auto done = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (done == pid_) {
    pid_ = -1;
    return describe_status(status);
  }
  return std::nullopt;
}

} // namespace netpol::lab
