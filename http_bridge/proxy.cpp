#include "http_bridge/proxy.hpp"

#include "actors/coordinator.hpp"
#include "actors/curl_pod_client.hpp"
#include "actors/pod_worker.hpp"
#include "actors/sqlite_round_store.hpp"
#include "http_bridge/routes.hpp"
#include "messages/error.hpp"
#include "messages/register.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <malloc.h>
#include <optional>
#include <pthread.h>
#include <thread>
#include <unistd.h>

namespace netpol {

proxy_server::proxy_server(caf::actor_system& sys, coordinator_actor coord,
                           const bridge_settings& settings) {
  // The routes read the front's counters for /metrics; the front exists by
  // the time any request is answered.
  auto counters = std::make_shared<front*>(nullptr);
  auto router = std::make_shared<routes>(
    sys, std::move(coord), settings,
    [counters] { return *counters ? (*counters)->counters() : front_counters{}; });
  front_ = std::make_unique<front>(settings.front, router);
  *counters = front_.get();
}

proxy_server::~proxy_server() {
  stop();
}

caf::expected<uint16_t> proxy_server::bind(const std::string& host,
                                           uint16_t port) {
  std::string error;
  auto bound = front_->bind(host, port, error);
  if (bound == 0)
    return make_error(errc::unavailable, error); // the caller names where
  return bound;
}

bool proxy_server::listen() {
  return front_->run();
}

void proxy_server::stop() {
  front_->stop();
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
                                    pod_call_canceller_ptr canceller,
                                    round_store_ptr store,
                                    std::string persistence) {
  worker_factory make_worker = [settings, canceller](caf::actor_system& sys) {
    // A client per worker: it owns its curl handles.
    auto client = std::make_shared<curl_pod_client>(settings, canceller);
    return sys.spawn<caf::detached>(pod_worker, std::move(client));
  };
  return sys.spawn(persistent_coordinator, settings, std::move(make_worker),
                   std::move(store), std::move(persistence));
}

round_store_ptr open_store(const proxy_options& opts,
                           std::string& persistence) {
  if (opts.state_dir.empty()) {
    auto how = opts.state_dir_off.empty() ? std::string{"--state-dir ''"}
                                          : opts.state_dir_off;
    persistence = "off: " + how;
    spdlog::info("Round store: off ({}): a restart of the proxy loses the "
                 "round",
                 how);
    return nullptr;
  }
  if (!opts.state_dir_given && access("/dev/shm", W_OK) != 0) {
    persistence = "off: /dev/shm is not writable";
    spdlog::warn("Round store: /dev/shm is not writable, running in memory: "
                 "a restart of the proxy loses the round (--state-dir "
                 "names another directory)");
    return nullptr;
  }
  auto opened = sqlite_round_store::open(opts.state_dir);
  if (!opened.note.empty())
    spdlog::error("Round store: {}", opened.note);
  if (!opened.store) {
    persistence = "off: " + opened.problem;
    spdlog::error("Round store: {}; running in memory: a restart of the "
                  "proxy loses the round",
                  opened.problem);
    return nullptr;
  }
  spdlog::info("Round store: {} (SQLite, WAL)", opened.store->path());
  return opened.store;
}

void configure_logging(const std::string& level) {
  spdlog::set_pattern("%Y/%m/%d %H:%M:%S %v");
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::trace);
}

namespace {

/// Before any thread starts: the allocator's arenas, the log, and the log's
/// first two lines.
void start_process(const proxy_options& opts) {
  // glibc gives each thread that allocates its own arena (up to 8 per core);
  // with 20 workers and 16 server threads passing buffers around, freed
  // memory fragments across arenas and RSS creeps up round after round
  // (15 → 35 MB over 100 soak rounds). Two arenas keep it flat (make soak).
  mallopt(M_ARENA_MAX, 2);
  configure_logging(opts.log_level);
  // Before anything else: which proxy this is, and how it is set.
  spdlog::info("{}: kube-burner's network-policy proxy, reimplemented (not "
               "the original Go image)",
               version_text());
  spdlog::info("Settings (flags and environment): {}",
               describe_options(opts));
}

/// Blocks the stop signals in this thread and so in every thread started
/// after; one thread waits for them (sigwait on the set returned).
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1); // raised by ourselves if serving fails
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

/// What the proxy waits for, as the line after "Client server started":
/// kube-burner's /initiate, as the original says, or its next call in the
/// round the store held. Asked once the coordinator restored that round
/// (its first message waits for that), so "Resumed round" comes first.
std::string waiting_line(caf::actor_system& sys,
                         const coordinator_actor& coord) {
  std::string line = "Wait for Connections from kube-burner..";
  caf::scoped_actor self{sys};
  self->request(coord, caf::infinite, poll_atom_v)
    .receive(
      [&](const round_status& status) {
        if (status.current != phase::idle)
          line = "Waiting for kube-burner's next call in resumed round "
                 + std::to_string(status.round) + " (phase "
                 + to_string(status.current) + ")";
      },
      [](const caf::error&) {}); // it answers polls unless it is gone
  return line;
}

/// Serves HTTP until one of `signals` arrives, then stops the server.
/// Returns the exit code so far (1 if serving failed), or nothing if the
/// port could not be bound: the coordinator has then been told to exit.
std::optional<int> serve_until_stopped(caf::actor_system& sys,
                                       const coordinator_actor& coord,
                                       const proxy_options& opts,
                                       const sigset_t& signals) {
  auto bridge = opts.bridge;
  bridge.described = describe_options(opts); // for the live page
  proxy_server server{sys, coord, bridge};
  auto port = server.bind(opts.listen_host, opts.listen_port);
  if (!port) {
    spdlog::error("Cannot listen on {}:{}: {}", opts.listen_host,
                  opts.listen_port, detail_of(port.error()));
    caf::anon_send_exit(coord, caf::exit_reason::user_shutdown);
    return std::nullopt;
  }
  // Asked before serving begins, so no /initiate can have changed the
  // round the line describes.
  auto waiting = waiting_line(sys, coord);
  spdlog::info("Client server started on :{}", *port);
  spdlog::info("{}", waiting);
  std::atomic<bool> stopping{false};
  std::thread serving{[&] {
    if (!server.listen() && !stopping) {
      spdlog::error("The HTTP server stopped unexpectedly");
      kill(getpid(), SIGUSR1);
    }
  }};
  int received = 0;
  sigwait(&signals, &received);
  stopping = true;
  int exit_code = 0;
  if (received == SIGUSR1) {
    exit_code = 1;
  } else {
    spdlog::info("Received {}, shutting down",
                 received == SIGTERM ? "SIGTERM" : "SIGINT");
  }
  // The front takes a stop at any time, also before it began serving.
  server.stop();
  serving.join();
  return exit_code;
}

/// Pod calls in flight end now, whatever the pods do. The coordinator
/// starts no more (drain is in its mailbox before any cancelled call's
/// answer) and records how each ended, so that a restart sends /check to
/// a pod it never reached; the workers then exit with it.
void drain_pod_calls(caf::actor_system& sys, const coordinator_actor& coord,
                     pod_call_canceller& canceller) {
  caf::scoped_actor self{sys};
  auto drained = self->request(coord, std::chrono::seconds(2), drain_atom_v);
  canceller.cancel_all();
  drained.receive(
    [](uint32_t ended) {
      if (ended > 0)
        spdlog::info("{} pod calls in flight were cut off", ended);
    },
    [](const caf::error& err) {
      spdlog::warn("Pod calls in flight not all recorded: {}",
                   detail_of(err));
    });
}

} // namespace

int run_proxy(const proxy_options& opts) {
  start_process(opts);
  // Block the stop signals in every thread; one thread waits for them.
  const sigset_t signals = block_stop_signals();
  caf::actor_system_config cfg;
  configure_actor_system(cfg);
  // A store that hits RLIMIT_FSIZE gets EFBIG and degrades; the signal
  // would kill the proxy instead.
  signal(SIGXFSZ, SIG_IGN);
  std::string persistence;
  auto store = open_store(opts, persistence);
  caf::actor_system sys{cfg};
  auto canceller = std::make_shared<pod_call_canceller>();
  auto coord = spawn_coordinator(sys, opts.settings, canceller,
                                 std::move(store), std::move(persistence));
  auto exit_code = serve_until_stopped(sys, coord, opts, signals);
  if (!exit_code)
    return 1;
  drain_pod_calls(sys, coord, *canceller);
  caf::anon_send_exit(coord, caf::exit_reason::user_shutdown);
  spdlog::info("Stopped");
  return *exit_code;
}

} // namespace netpol
