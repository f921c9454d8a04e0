#pragma once

#include "http_bridge/options.hpp"
#include "messages/interfaces.hpp"

#include <caf/actor_system.hpp>

namespace httplib {
class Server;
} // namespace httplib

namespace netpol {

/// Installs every endpoint. Each route parses its input, sends one message
/// to the coordinator, and translates the reply; no run state lives here.
void install_routes(httplib::Server& server, caf::actor_system& sys,
                    coordinator_actor coordinator,
                    const bridge_settings& settings);

} // namespace netpol
