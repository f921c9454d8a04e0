#include "http_bridge/proxy.hpp"

#include "actors/coordinator.hpp"
#include "actors/curl_pod_client.hpp"
#include "actors/pod_worker.hpp"
#include "http_bridge/routes.hpp"
#include "messages/error.hpp"
#include "messages/register.hpp"

#include <caf/all.hpp>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <malloc.h>
#include <pthread.h>
#include <sys/socket.h>
#include <thread>

namespace netpol {

proxy_server::proxy_server(caf::actor_system& sys, coordinator_actor coord,
                           const bridge_settings& settings)
  : server_(std::make_unique<httplib::Server>()) {
  auto threads = settings.threads;
  server_->new_task_queue = [threads] {
    return new httplib::ThreadPool(threads);
  };
  server_->set_payload_max_length(settings.max_body_bytes);
  server_->set_tcp_nodelay(true);
  auto read_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                        settings.read_timeout)
                        .count();
  server_->set_read_timeout(std::max<time_t>(1, read_seconds), 0);
  server_->set_socket_options([this](int fd) {
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = fd;
  });
  install_routes(*server_, sys, std::move(coord), settings);
}

proxy_server::~proxy_server() {
  stop();
}

caf::expected<uint16_t> proxy_server::bind(const std::string& host,
                                           uint16_t port) {
  int bound = port;
  if (port == 0)
    bound = server_->bind_to_any_port(host);
  else if (!server_->bind_to_port(host, port))
    bound = -1;
  if (bound <= 0)
    return make_error(errc::unavailable, "cannot listen on " + host + ":"
                                           + std::to_string(port));
  // httplib listens with a backlog of 5: kube-burner alone is fine, but
  // bursts of probes and pollers are not.
  if (listen_fd_ >= 0)
    ::listen(listen_fd_, 1024);
  return static_cast<uint16_t>(bound);
}

bool proxy_server::listen() {
  return server_->listen_after_bind();
}

void proxy_server::stop() {
  if (server_->is_running())
    server_->stop();
}

void configure_actor_system(caf::actor_system_config& cfg) {
  register_types(cfg);
  // Work stealing parks idle scheduler threads in 10 ms sleeps once they
  // have been idle a while, and every pod call passes through the
  // coordinator: at 20 ms pods that added ~3 ms per call. The sharing
  // policy wakes a thread at once (condition variable).
  cfg.set("scheduler.policy", caf::atom("sharing"));
}

coordinator_actor spawn_coordinator(caf::actor_system& sys,
                                    const proxy_settings& settings,
                                    pod_call_canceller_ptr canceller) {
  return sys.spawn(coordinator, settings,
                   [settings, canceller](caf::actor_system& sys) {
                     // A client per worker: it owns its curl handles.
                     auto client = std::make_shared<curl_pod_client>(settings,
                                                                     canceller);
                     return sys.spawn<caf::detached>(pod_worker,
                                                     std::move(client));
                   });
}

void configure_logging(const std::string& level) {
  spdlog::set_pattern("%Y/%m/%d %H:%M:%S %v");
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::trace);
}

int run_proxy(const proxy_options& opts) {
  // glibc gives each thread that allocates its own arena (up to 8 per core);
  // with 20 workers and 16 server threads passing buffers around, freed
  // memory fragments across arenas and RSS creeps up round after round
  // (15 → 35 MB over 100 soak rounds). Two arenas keep it flat (make soak).
  mallopt(M_ARENA_MAX, 2);
  configure_logging(opts.log_level);
  // Block the stop signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1); // raised by ourselves if serving fails
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  caf::actor_system_config cfg;
  configure_actor_system(cfg);
  caf::actor_system sys{cfg};
  auto canceller = std::make_shared<pod_call_canceller>();
  auto coord = spawn_coordinator(sys, opts.settings, canceller);
  int exit_code = 0;
  {
    proxy_server server{sys, coord, opts.bridge};
    auto port = server.bind(opts.listen_host, opts.listen_port);
    if (!port) {
      spdlog::error("Cannot listen on {}:{}: {}", opts.listen_host,
                    opts.listen_port, strerror(errno));
      caf::anon_send_exit(coord, caf::exit_reason::user_shutdown);
      return 1;
    }
    std::atomic<bool> stopping{false};
    std::atomic<bool> served{false};
    std::thread serving{[&] {
      if (!server.listen() && !stopping) {
        spdlog::error("The HTTP server stopped unexpectedly");
        kill(getpid(), SIGUSR1);
      }
      served = true;
    }};
    spdlog::info("Client server started on :{}", *port);
    spdlog::info("Wait for Connections from kube-burner..");
    int received = 0;
    sigwait(&signals, &received);
    stopping = true;
    if (received == SIGUSR1) {
      exit_code = 1;
    } else {
      spdlog::info("Received {}, shutting down",
                   received == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    // A signal that came before the server started listening would find
    // nothing to stop: keep stopping until the serving thread is done.
    while (!served) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    serving.join();
  }
  // Pod calls in flight end now, whatever the pods do; the workers then
  // exit with the coordinator.
  canceller->cancel_all();
  caf::anon_send_exit(coord, caf::exit_reason::user_shutdown);
  spdlog::info("Stopped");
  return exit_code;
}

} // namespace netpol
