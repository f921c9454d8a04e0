#pragma once

#include "actors/pod_client.hpp"
#include "messages/interfaces.hpp"

#include <functional>

namespace netpol {

/// Spawns one pod worker: detached with the real client in production,
/// scheduled with a simulated client in tests.
using worker_factory = std::function<pod_worker_actor(caf::actor_system&)>;

struct pod_worker_state {
  static inline const char* name = "pod_worker";
  pod_client_ptr client;
};

/// Makes exactly one pod call per job and reports how it ended. The call
/// blocks, so production spawns workers detached (a thread each); tests spawn
/// them scheduled with a simulated client.
pod_worker_actor::behavior_type
pod_worker(pod_worker_actor::stateful_pointer<pod_worker_state> self,
           pod_client_ptr client);

} // namespace netpol
