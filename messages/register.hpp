#pragma once

#include <caf/actor_system_config.hpp>

namespace netpol {

/// Registers every message type, atom and the error category with `cfg`.
void register_types(caf::actor_system_config& cfg);

} // namespace netpol
