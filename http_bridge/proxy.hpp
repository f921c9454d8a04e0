#pragma once

#include "actors/curl_pod_client.hpp"
#include "actors/round_store.hpp"
#include "http_bridge/front.hpp"
#include "http_bridge/options.hpp"
#include "messages/interfaces.hpp"

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <memory>

namespace netpol {

class front;
class routes;

/// The HTTP front and the routes in front of a coordinator. Used by main()
/// and, in process, by the integration tests.
class proxy_server {
public:
  proxy_server(caf::actor_system& sys, coordinator_actor coordinator,
               const bridge_settings& settings);

  ~proxy_server();

  /// Binds host:port (port 0 picks a free one) and returns the port, or
  /// why it could not ("Address already in use"), without the address.
  caf::expected<uint16_t> bind(const std::string& host, uint16_t port);

  /// Serves until stop(); returns false if serving failed.
  bool listen();

  /// Stops accepting; requests in flight are answered first. Safe from
  /// any thread, also before listen() started.
  void stop();

private:
  std::unique_ptr<front> front_;
};

/// Our types, and the scheduler settings the proxy runs with.
void configure_actor_system(caf::actor_system_config& cfg);

/// Spawns the production coordinator: detached workers (a thread each, since
/// pod calls block), each with its own libcurl pod client; `canceller` ends
/// their calls in flight at shutdown.
coordinator_actor spawn_coordinator(caf::actor_system& sys,
                                    const proxy_settings& settings,
                                    pod_call_canceller_ptr canceller,
                                    round_store_ptr store = nullptr,
                                    std::string persistence = "off");

/// The round store --state-dir asks for, or null (in memory) with the
/// reason in `persistence`; logs what it found in one or two lines.
round_store_ptr open_store(const proxy_options& options,
                           std::string& persistence);

/// The process: actor system, coordinator with detached workers, the server,
/// graceful shutdown on SIGTERM/SIGINT. Returns the exit code.
int run_proxy(const proxy_options& options);

/// Sets spdlog's pattern to the original proxy's `2024/10/01 11:18:02 ...`.
void configure_logging(const std::string& level);

} // namespace netpol
