#include "actors/round_journal.hpp"

namespace netpol {

null_round_store::null_round_store(std::string why) : why_(std::move(why)) {
  // nop
}

std::string null_round_store::health() const {
  return why_;
}

void null_round_store::begin_round(const round_meta&, const round_catalog&,
                                   const std::vector<pod_record>&) {
  // nop
}

void null_round_store::save_round(const round_meta&) {
  // nop
}

void null_round_store::save_lifecycle(const lifecycle_meta&) {
  // nop
}

void null_round_store::save_pod(uint64_t, uint32_t, const pod_record&) {
  // nop
}

void null_round_store::save_collected(uint64_t, uint32_t,
                                      const shared_bytes&) {
  // nop
}

void null_round_store::save_sample(uint64_t, uint32_t,
                                   const stored_sample&) {
  // nop
}

void null_round_store::call_started(uint64_t, uint32_t, stage, uint32_t,
                                    int64_t) {
  // nop
}

void null_round_store::call_ended(uint64_t, uint32_t, stage, uint32_t,
                                  const pod_outcome&) {
  // nop
}

void null_round_store::commit() {
  // nop
}

bool null_round_store::pending() const {
  return false;
}

saved_round null_round_store::load() {
  return {};
}

round_journal::round_journal() : round_journal(nullptr, "off: no store given") {
  // nop
}

round_journal::round_journal(round_store_ptr store, std::string persistence)
  : durable_(store != nullptr) {
  if (store)
    store_ = std::move(store);
  else
    store_ = std::make_shared<null_round_store>(std::move(persistence));
}

std::string round_journal::health() const {
  return store_->health();
}

saved_round round_journal::load() {
  return store_->load();
}

void round_journal::begin_round(const round_meta& meta,
                                const round_catalog& catalog,
                                const std::vector<pod_record>& pods) {
  store_->begin_round(meta, catalog, pods);
}

void round_journal::save_lifecycle(const lifecycle_meta& lifecycle) {
  store_->save_lifecycle(lifecycle);
}

void round_journal::touch(std::vector<pod_record>& pods, pod_record& pod) {
  // Without a store nothing is written: no list to keep.
  if (durable_ && !pod.dirty) {
    pod.dirty = true;
    dirty_.push_back(static_cast<uint32_t>(&pod - pods.data()));
  }
}

void round_journal::save_collected(uint64_t round, uint32_t index,
                                   const shared_bytes& compressed) {
  store_->save_collected(round, index, compressed);
}

void round_journal::save_sample(uint64_t round, uint32_t index,
                                const pod_sample& sample) {
  if (!durable_)
    return; // no store: not even compressed
  stored_sample row;
  row.pod = index;
  row.entries = sample.entries;
  row.taken_unix_ms = sample.taken_unix_ms;
  row.not_extending = sample.not_extending;
  row.restart_seen_unix_ms = sample.restart_seen_unix_ms;
  row.compressed = compress_blob(sample.body.view());
  if (row.compressed.size() > 0)
    store_->save_sample(round, index, row);
}

void round_journal::call_started(uint64_t round, uint32_t index, stage kind,
                                 uint32_t attempt, int64_t unix_ms) {
  store_->call_started(round, index, kind, attempt, unix_ms);
}

void round_journal::call_ended(uint64_t round, uint32_t index, stage kind,
                               uint32_t attempt, const pod_outcome& outcome) {
  store_->call_ended(round, index, kind, attempt, outcome);
  if (durable_ && kind == stage::delivery)
    delivery_ended_ = true;
}

void round_journal::commit(const round_meta& meta,
                           std::vector<pod_record>& pods) {
  if (!durable_)
    return;
  commit_due_ = false;
  delivery_ended_ = false;
  for (auto index : dirty_)
    if (index < pods.size()) {
      auto& pod = pods[index];
      pod.dirty = false;
      store_->save_pod(meta.round, index, pod);
    }
  dirty_.clear();
  if (meta.round > 0)
    store_->save_round(meta);
  store_->commit();
}

bool round_journal::commit_soon() {
  if (!durable_ || commit_due_ || (dirty_.empty() && !store_->pending()))
    return false;
  commit_due_ = true;
  return true;
}

void round_journal::commit_if_due(const round_meta& meta,
                                   std::vector<pod_record>& pods) {
  if (commit_due_)
    commit(meta, pods);
}

} // namespace netpol
