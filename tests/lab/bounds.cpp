#include "lab/bounds.hpp"

#include "messages/duration.hpp"

#include <chrono>

namespace netpol::lab {

proxy_settings to_settings(const podsim::proxy_config& config) {
  proxy_settings s;
  s.workers = config.workers;
  s.connect_timeout = config.connect_timeout;
  s.request_timeout = config.request_timeout;
  s.retries = config.retries;
  s.backoff_base = config.backoff_base;
  s.backoff_cap = config.backoff_cap;
  return s;
}

stage_bound phase_bound(const podsim::proxy_config& config, uint64_t calls) {
  // The proxy's own backoff rule, so the bound follows it if it changes.
  auto settings = to_settings(config);
  stage_bound out;
  out.call_seconds = seconds(settings.connect_timeout
                             + settings.request_timeout);
  auto backoffs = 0.0;
  for (uint32_t failed = 1; failed < settings.max_attempts(); ++failed)
    backoffs += seconds(settings.backoff(failed));
  out.pod_seconds = settings.max_attempts() * out.call_seconds + backoffs;
  auto rounds = (calls + settings.workers - 1) / settings.workers;
  out.phase_seconds = static_cast<double>(rounds) * out.call_seconds
                      + out.pod_seconds;
  return out;
}

stage_bound worst_case_bound(const podsim::proxy_config& config,
                             uint64_t pods) {
  return phase_bound(config, pods * (uint64_t{config.retries} + 1));
}

} // namespace netpol::lab
