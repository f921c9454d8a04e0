#include "client/run_client.hpp"

#include "client/http_server.hpp"
#include "client/routes.hpp"
#include "client/tcp_prober.hpp"
#include "messages/flags.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <csignal>

namespace netpol::client {

namespace net = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

/// Probes due within this much of a wake-up start with it, a few
/// milliseconds early: wake-ups, not probes, were most of the CPU. A tenth
/// of the interval, at most 20 ms (docs/performance.md, "netpol-client":
/// 2 ms -> 20 ms took a third off the CPU, errors unchanged).
std::chrono::nanoseconds early_start(const schedule_settings& s) {
  return std::min<std::chrono::nanoseconds>(std::chrono::milliseconds{20},
                                            s.interval / 10);
}

/// Each target holds up to two sockets: take every descriptor the pod
/// allows (the soft limit is often 1024, the hard one far higher).
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

/// Runs the scheduler when it is due, on one timer.
class probe_driver {
public:
  probe_driver(net::io_context& io, client_service& service,
               std::chrono::nanoseconds early)
    : timer_(io), service_(service), early_(early) {
  }

  /// Starts driving the scheduler the service just made.
  void begin() {
    service_.scheduler()->on_earlier_wakeup(
      [this](steady::time_point at) { arm(at); });
    run();
  }

private:
  void run() {
    auto next = service_.scheduler()->run(steady::now() + early_);
    armed_ = steady::time_point::max();
    arm(next);
  }

  void arm(steady::time_point at) {
    if (at >= armed_)
      return;
    armed_ = at;
    timer_.expires_at(at);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec)
        run();
    });
  }

  net::steady_timer timer_;
  client_service& service_;
  std::chrono::nanoseconds early_;
  steady::time_point armed_ = steady::time_point::max();
};

/// A progress line every `every` while tests are pending.
void log_progress(net::steady_timer& timer, client_service& service,
                  std::chrono::nanoseconds every) {
  timer.expires_after(every);
  timer.async_wait([&timer, &service, every](boost::system::error_code ec) {
    if (ec)
      return;
    if (service.scheduler() && !service.all_succeeded())
      spdlog::info("Progress: {}", service.progress_line());
    log_progress(timer, service, every);
  });
}

void configure_logging(const std::string& level) {
  spdlog::set_pattern("%Y/%m/%d %H:%M:%S %v");
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::trace);
}

void log_start(const client_options& o) {
  spdlog::info("{}: a client pod for kube-burner's network-policy latency, "
               "probing every target on its own",
               client_version_text());
  spdlog::info("Settings: {}", describe_client_options(o));
  if (o.parallel_connections)
    spdlog::info("PARALLEL_CONNECTIONS={} is the real client's batch count; "
                 "it sets nothing here: every target is probed on its own, "
                 "at most {} probes a second",
                 *o.parallel_connections, o.schedule.max_probes_per_second);
}

} // namespace

int run_client(const client_options& o) {
  configure_logging(o.log_level);
  log_start(o);
  raise_descriptor_limit();
  // One thread runs everything; Asio's resolver thread (host names only)
  // hands its results over through the scheduler, which stays locked.
  net::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  tcp_prober prober{io};
  client_service service{o.schedule, o.max_tests, prober,
                         client_version_text()};
  probe_driver driver{io, service, early_start(o.schedule)};
  server_settings settings;
  settings.max_body_bytes = o.max_body_bytes;
  http_server server{io, settings, [&](const request_view& request) {
                       bool had_list = service.scheduler() != nullptr;
                       auto answer = route(service, request, steady::now());
                       if (!had_list && service.scheduler())
                         driver.begin();
                       return answer;
                     }};
  std::string error;
  if (!server.listen(o.listen_host, o.listen_port, error)) {
    spdlog::error("Cannot listen on {}:{}: {}",
                  o.listen_host.empty() ? "*" : o.listen_host, o.listen_port,
                  error);
    return 1;
  }
  spdlog::info("Server started on {}", server.local_address());
  net::steady_timer progress{io};
  log_progress(progress, service, o.progress_interval);
  net::signal_set signals{io, SIGINT, SIGTERM};
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec)
      return;
    spdlog::info("Stopping on {}{}", signal == SIGTERM ? "SIGTERM" : "SIGINT",
                 service.scheduler() ? ": " + service.progress_line() : "");
    server.stop();
    io.stop();
  });
  io.run();
  return 0;
}

} // namespace netpol::client
