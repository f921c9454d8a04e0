// netpol-bench-hold: keeps connections to the proxy open and unfinished, as
// port scanners, stuck health checkers and slow links do: `--idle` ones
// send nothing, `--slow` ones send a request header one byte every 500 ms.
// A connection the proxy closes (a deadline) is opened again, so the count
// holds. Prints "holding N" once all are open; runs until SIGTERM.

#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

volatile std::sig_atomic_t stop_requested = 0;

int open_connection(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct held {
  bool slow = false;
  size_t sent = 0; // header bytes sent so far
};

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Holds idle and slow connections open against a proxy"};
  uint16_t port = 0;
  size_t idle = 0;
  size_t slow = 0;
  app.add_option("--port", port, "Proxy port")->required();
  app.add_option("--idle", idle, "Connections that send nothing");
  app.add_option("--slow", slow, "Connections that trickle a header");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGTERM, [](int) { stop_requested = 1; });
  std::signal(SIGINT, [](int) { stop_requested = 1; });
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  static const std::string header = "GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: "
                                    + std::string(4096, 'a');
  int ep = epoll_create1(0);
  std::unordered_map<int, held> fds;
  uint64_t reopened = 0;
  auto add = [&](bool is_slow) {
    int fd = open_connection(port);
    if (fd < 0)
      return false;
    epoll_event ev{};
    ev.events = EPOLLRDHUP | EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    fds[fd] = held{is_slow, 0};
    return true;
  };
  for (size_t i = 0; i < idle + slow; ++i)
    if (!add(i >= idle)) {
      std::fprintf(stderr, "could not open connection %zu\n", i);
      return 1;
    }
  std::printf("holding %zu (%zu idle, %zu slow)\n", fds.size(), idle, slow);
  std::fflush(stdout);
  auto next_trickle = std::chrono::steady_clock::now();
  std::vector<epoll_event> events(256);
  while (!stop_requested) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      char buf[4096];
      auto got = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (got > 0)
        continue; // a 408 on its way: the close follows
      if (got < 0 && errno == EAGAIN)
        continue;
      bool was_slow = fds[fd].slow;
      epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
      ::close(fd);
      fds.erase(fd);
      ++reopened;
      add(was_slow);
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= next_trickle) {
      next_trickle = now + std::chrono::milliseconds(500);
      for (auto& [fd, h] : fds)
        if (h.slow && h.sent < header.size()
            && ::send(fd, header.data() + h.sent, 1,
                      MSG_NOSIGNAL | MSG_DONTWAIT)
                 == 1)
          ++h.sent;
    }
  }
  std::printf("reopened %llu\n", static_cast<unsigned long long>(reopened));
  return 0;
}
