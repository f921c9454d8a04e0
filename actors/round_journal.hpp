// The coordinator's durability in one place: the round store (a null one
// when persistence is off), the pods changed since the last commit, and
// when to commit. The coordinator tells the journal what changed and asks
// it when to commit; it never calls the store itself.
//
// The commit policy has three words:
// - commit: write what changed and commit now. Before a /check goes out
//   (the call is durable, as started, before it reaches a pod), after a
//   /check ended, and after a round's start, stop, refusal or restore.
// - commit_soon: leave what changed to a commit within
//   grouped_commit_window (the coordinator's commit_atom), so the answers
//   of a few milliseconds of collection share one commit.
// - commit_if_due: commit what waits for commit_soon's commit_atom now,
//   before an answer that shows the round: a restart never goes back on
//   what was answered.
#pragma once

#include "actors/round_samples.hpp"
#include "actors/round_store.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace netpol {

/// How long a commit may wait for more changes to share it when no /check is
/// about to go out: in collection the answers of a few milliseconds share
/// one commit. What a crash loses of them is a /results asked again after
/// the restart (it is idempotent); answers that show the round commit first.
constexpr auto grouped_commit_window = std::chrono::milliseconds{10};

/// A store that keeps nothing: the round lives in memory only. Its health
/// says why (what /status shows as persistence).
class null_round_store : public round_store {
public:
  explicit null_round_store(std::string why);

  std::string health() const override;
  void begin_round(const round_meta&, const round_catalog&,
                   const std::vector<pod_record>&) override;
  void save_round(const round_meta&) override;
  void save_lifecycle(const lifecycle_meta&) override;
  void save_pod(uint64_t, uint32_t, const pod_record&) override;
  void save_collected(uint64_t, uint32_t, const shared_bytes&) override;
  void save_sample(uint64_t, uint32_t, const stored_sample&) override;
  void call_started(uint64_t, uint32_t, stage, uint32_t, int64_t) override;
  void call_ended(uint64_t, uint32_t, stage, uint32_t,
                  const pod_outcome&) override;
  void commit() override;
  bool pending() const override;
  saved_round load() override;

private:
  std::string why_;
};

class round_journal {
public:
  /// Persistence off: a null store.
  round_journal();

  /// Keeps the round in `store`; a null `store` is persistence off, and
  /// `persistence` tells /status why.
  round_journal(round_store_ptr store, std::string persistence);

  /// Whether the round survives a restart (a real store).
  bool durable() const {
    return durable_;
  }

  /// For /status: the store's health, or why there is no store.
  std::string health() const;

  /// The latest round and the lifecycle, as last committed (nothing when
  /// persistence is off).
  saved_round load();

  // -- what changed (written now, durable at the next commit) -----------------

  /// A new round: its names and every pod. Older rounds are dropped.
  void begin_round(const round_meta& meta, const round_catalog& catalog,
                   const std::vector<pod_record>& pods);

  /// The rounds superseded and the last refusal changed.
  void save_lifecycle(const lifecycle_meta& lifecycle);

  /// A pod's record (pods[index]) changed: written at the next commit.
  void touch(std::vector<pod_record>& pods, pod_record& pod);

  /// A collected pod's body, compressed (empty: not kept).
  void save_collected(uint64_t round, uint32_t index,
                      const shared_bytes& compressed);

  /// A pod's sample during the job, compressed here (nothing without a
  /// store): written now, durable at the next commit, which the caller
  /// leaves to commit_soon (a crash within grouped_commit_window leaves the
  /// store the pod's sample before, one interval older).
  void save_sample(uint64_t round, uint32_t index, const pod_sample& sample);

  /// A call is about to go out (see round_store::call_started).
  void call_started(uint64_t round, uint32_t index, stage kind,
                    uint32_t attempt, int64_t unix_ms);

  /// A call ended. A /check's end is never left to a grouped commit (see
  /// commits_now): lost in a crash, it would leave the pod unconfirmed
  /// (maybe without its list).
  void call_ended(uint64_t round, uint32_t index, stage kind,
                  uint32_t attempt, const pod_outcome& outcome);

  // -- when to commit ---------------------------------------------------------

  /// Writes the changed pods and the round, and commits.
  void commit(const round_meta& meta, std::vector<pod_record>& pods);

  /// Leaves what changed to a grouped commit: true when the caller is to
  /// send itself a commit_atom due in grouped_commit_window (none is on its
  /// way and there is something to commit).
  bool commit_soon();

  /// Whether a grouped commit waits for its commit_atom.
  bool commit_due() const {
    return commit_due_;
  }

  /// Commits what waits for a grouped commit, if anything: before an answer
  /// that shows the round, and when the commit_atom arrives.
  void commit_if_due(const round_meta& meta, std::vector<pod_record>& pods);

  /// After a dispatch: whether it commits now (a /check goes out, or one
  /// ended since the last commit) rather than soon.
  bool commits_now(bool checks_out) const {
    return checks_out || delivery_ended_;
  }

  /// Whether answers waiting in the mailbox should be handled before the
  /// next dispatch, so that their wave shares one commit (without a store
  /// there is no commit to share).
  bool shares_commits() const {
    return durable_;
  }

private:
  round_store_ptr store_;
  bool durable_ = false;
  std::vector<uint32_t> dirty_; // pods changed since the last commit
  bool commit_due_ = false;     // a commit_atom is on its way (commit_soon)
  bool delivery_ended_ = false; // a /check ended since the last commit
};

} // namespace netpol
