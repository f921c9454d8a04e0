// The in-memory twin of sqlite_round_store, for deterministic tests: writes
// apply at once, commit() takes the snapshot that load() reads back, so a
// test can "kill" a coordinator and start another on what was committed.
#pragma once

#include "actors/round_store.hpp"

#include <map>
#include <tuple>

namespace netpol {

class memory_round_store : public round_store {
public:
  std::string health() const override;
  void begin_round(const round_meta& meta, const round_catalog& catalog,
                   const std::vector<pod_record>& pods) override;
  void save_round(const round_meta& meta) override;
  void save_lifecycle(const lifecycle_meta& lifecycle) override;
  void save_pod(uint64_t round, uint32_t index,
                const pod_record& pod) override;
  void save_collected(uint64_t round, uint32_t index,
                      const shared_bytes& compressed) override;
  void save_sample(uint64_t round, uint32_t index,
                   const stored_sample& sample) override;
  void call_started(uint64_t round, uint32_t index, stage kind,
                    uint32_t attempt, int64_t unix_ms) override;
  void call_ended(uint64_t round, uint32_t index, stage kind,
                  uint32_t attempt, const pod_outcome& outcome) override;
  void commit() override;
  bool pending() const override {
    return pending_;
  }
  saved_round load() override;

  /// Commits so far (a test can tell a write was made durable).
  size_t commits() const {
    return commits_;
  }

  /// Calls committed as started and not ended: (pod, stage).
  std::vector<std::pair<uint32_t, stage>> committed_in_flight() const;

  /// Samples written (save_sample), committed or not: a test can tell a
  /// sweep wrote nothing.
  size_t sample_writes() const {
    return sample_writes_;
  }

  /// Pods with a sample as last committed.
  size_t committed_samples() const {
    return committed_.samples.size();
  }

  /// A pod's row as last committed (as the SQLite store's pods table has it).
  const pod_record& committed_pod(uint32_t index) const {
    return committed_.pods.at(index);
  }

private:
  /// A call as the SQLite store's calls table keeps it.
  struct call_row {
    bool ended = false;
    call_status status = call_status::ok;
    double seconds = 0;
  };

  struct image {
    round_meta meta;
    lifecycle_meta lifecycle;
    std::shared_ptr<const round_catalog> catalog;
    std::vector<pod_record> pods; // as a store keeps them (see load)
    std::vector<std::string> lists; // kept when not canonical
    std::vector<shared_bytes> compressed;
    std::map<uint32_t, stored_sample> samples; // by pod
    std::map<std::tuple<uint32_t, stage, uint32_t>, call_row> calls;
  };

  image working_;
  image committed_;
  size_t commits_ = 0;
  size_t sample_writes_ = 0;
  bool pending_ = false;
};

} // namespace netpol
