#include "support/memory_round_store.hpp"

namespace netpol {

std::string memory_round_store::health() const {
  return "on: memory";
}

void memory_round_store::begin_round(const round_meta& meta,
                                     const round_catalog& catalog,
                                     const std::vector<pod_record>& pods) {
  pending_ = true;
  working_ = image{};
  working_.lifecycle = committed_.lifecycle;
  working_.meta = meta;
  working_.catalog = std::make_shared<round_catalog>(catalog);
  working_.lists.resize(pods.size());
  working_.compressed.resize(pods.size());
  for (size_t i = 0; i < pods.size(); ++i) {
    auto pod = pods[i];
    // Like the SQLite store: the list only when its tests can't rebuild it.
    if (!pod.canonical)
      working_.lists[i] = std::string{pod.connections.view()};
    pod.connections = {};
    pod.results = {};
    working_.pods.push_back(std::move(pod));
  }
}

void memory_round_store::save_round(const round_meta& meta) {
  pending_ = true;
  working_.meta = meta;
}

void memory_round_store::save_lifecycle(const lifecycle_meta& lifecycle) {
  pending_ = true;
  working_.lifecycle = lifecycle;
}

void memory_round_store::save_pod(uint64_t round, uint32_t index,
                                  const pod_record& pod) {
  pending_ = true;
  if (round != working_.meta.round || index >= working_.pods.size())
    return;
  auto copy = pod;
  copy.connections = {};
  copy.results = {};
  working_.pods[index] = std::move(copy);
}

void memory_round_store::save_collected(uint64_t round, uint32_t index,
                                        const shared_bytes& compressed) {
  pending_ = true;
  if (round != working_.meta.round || index >= working_.pods.size())
    return;
  working_.compressed[index] = compressed;
}

void memory_round_store::save_sample(uint64_t round, uint32_t index,
                                     const stored_sample& sample) {
  pending_ = true;
  ++sample_writes_;
  if (round == working_.meta.round && index < working_.pods.size())
    working_.samples[index] = sample;
}

void memory_round_store::call_started(uint64_t round, uint32_t index,
                                      stage kind, uint32_t attempt,
                                      int64_t) {
  pending_ = true;
  if (round == working_.meta.round)
    working_.calls[{index, kind, attempt}] = call_row{};
}

void memory_round_store::call_ended(uint64_t round, uint32_t index,
                                    stage kind, uint32_t attempt,
                                    const pod_outcome& outcome) {
  pending_ = true;
  if (round == working_.meta.round)
    working_.calls[{index, kind, attempt}] = call_row{
      true, outcome.status,
      std::chrono::duration<double>(outcome.elapsed).count()};
}

void memory_round_store::commit() {
  committed_ = working_;
  pending_ = false;
  ++commits_;
}

std::vector<std::pair<uint32_t, stage>>
memory_round_store::committed_in_flight() const {
  std::vector<std::pair<uint32_t, stage>> result;
  for (auto& [key, call] : committed_.calls)
    if (!call.ended)
      result.emplace_back(std::get<0>(key), std::get<1>(key));
  return result;
}

saved_round memory_round_store::load() {
  saved_round result;
  auto& img = committed_;
  result.meta = img.meta;
  result.lifecycle = img.lifecycle;
  if (img.meta.round == 0 || !img.catalog)
    return result;
  result.catalog.ptr = img.catalog;
  result.pods = img.pods;
  result.accounts.resize(img.pods.size());
  result.in_flight.assign(img.pods.size(), in_flight_stage::none);
  result.in_flight_attempt.assign(img.pods.size(), 0);
  result.results_kept.assign(img.pods.size(), false);
  for (auto& [key, call] : img.calls) {
    auto kind = std::get<1>(key);
    if (std::get<2>(key) > 1)
      ++result.call_totals.retries[static_cast<size_t>(kind)];
    if (call.ended) {
      result.call_totals.count_call(kind, call.status, call.seconds);
    } else {
      auto pod = std::get<0>(key);
      result.in_flight[pod] = std::get<1>(key) == stage::delivery
                                ? in_flight_stage::delivery
                                : in_flight_stage::collection;
      result.in_flight_attempt[pod] = std::get<2>(key);
    }
  }
  for (auto& [pod, sample] : img.samples)
    result.samples.push_back(sample);
  for (size_t i = 0; i < result.pods.size(); ++i) {
    auto& pod = result.pods[i];
    result.results_kept[i] = rebuild_loaded_pod(
      *img.catalog, pod, pod.canonical ? nullptr : &img.lists[i],
      img.compressed[i].view(), result.accounts[i]);
  }
  return result;
}

} // namespace netpol
