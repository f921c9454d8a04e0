// The sampler: reads the pods' /results during the job (between the end of
// delivery and /stop) through a lane of workers of its own, so sampling
// never takes a worker from kube-burner's calls, delivery or collection.
// The coordinator decides when a sweep starts and what to keep
// (round_samples); the sampler only makes the calls.
#pragma once

#include "actors/pod_worker.hpp"
#include "messages/interfaces.hpp"

#include <caf/timespan.hpp>

#include <deque>
#include <unordered_map>
#include <vector>

namespace netpol {

/// The workers of the sampler's lane, by what they do now.
struct sample_lane {
  std::deque<pod_worker_actor> idle;
  std::unordered_map<caf::actor_id, pod_worker_actor> busy;
  uint64_t restarts = 0; // workers replaced after a lost call
};

/// The sweep being read.
struct sweep_progress {
  uint64_t round = 0;
  uint64_t number = 0;   // answers of an older sweep are dropped
  std::deque<pod_job> left;
  uint32_t out = 0;      // this sweep's calls in flight
  uint32_t answered = 0; // this sweep's answers told to the coordinator
  bool running = false;
};

/// Lists to send again (POST /check), decided by the coordinator: they go
/// before the sweep's next job.
struct resend_queue {
  std::deque<pod_job> left;
  uint32_t out = 0;
};

struct sampler_state {
  static inline const char* name = "sampler";
  coordinator_actor coordinator;
  worker_factory make_worker;
  caf::timespan deadline{0}; // a worker's answer, as for the coordinator's
  sample_lane lane;
  sweep_progress sweep;
  resend_queue resends;
};

/// `width` workers (from `make_worker`), each making one call at a time;
/// every call ends within `deadline` (proxy_settings::worker_deadline).
sampler_actor::behavior_type
sampler(sampler_actor::stateful_pointer<sampler_state> self,
        coordinator_actor coordinator, worker_factory make_worker,
        uint32_t width, caf::timespan deadline);

} // namespace netpol
