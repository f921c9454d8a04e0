// The prober's in-memory twin: records what the scheduler starts and
// abandons; the test decides what each probe meets, and when.
#pragma once

#include "client/prober.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace netpol::client::test {

class simulated_prober final : public prober {
public:
  struct started_probe {
    probe_id id;
    std::string target; // "address:port"
  };

  void start(probe_id id, const probe_target& target,
             probe_events& events) override {
    auto name = target.address + ":" + std::to_string(target.port);
    started.push_back({id, name});
    live[id] = &events;
  }

  void abandon(probe_id id) override {
    if (live.erase(id) > 0)
      abandoned.push_back(id);
  }

  /// The probe's SYN-ACK arrives.
  void connect(probe_id id) {
    live.at(id)->probe_connected(id);
  }

  /// The probe's target answers 200, its status line arriving at `at`.
  void succeed(probe_id id, std::chrono::system_clock::time_point at) {
    auto* events = live.at(id);
    live.erase(id);
    events->probe_succeeded(id, at);
  }

  void fail(probe_id id, probe_failure why) {
    auto* events = live.at(id);
    live.erase(id);
    events->probe_failed(id, why);
  }

  /// Probes started for `target`, oldest first.
  std::vector<probe_id> probes_of(const std::string& target) const {
    std::vector<probe_id> out;
    for (auto& p : started)
      if (p.target == target)
        out.push_back(p.id);
    return out;
  }

  /// The probe started last for `target` (0 if none).
  probe_id last_of(const std::string& target) const {
    auto all = probes_of(target);
    return all.empty() ? 0 : all.back();
  }

  bool was_abandoned(probe_id id) const {
    return std::find(abandoned.begin(), abandoned.end(), id)
           != abandoned.end();
  }

  bool is_live(probe_id id) const {
    return live.count(id) > 0;
  }

  std::vector<started_probe> started;
  std::vector<probe_id> abandoned;
  std::map<probe_id, probe_events*> live;
};

} // namespace netpol::client::test
