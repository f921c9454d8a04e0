#include "actors/completeness.hpp"

#include "actors/results_body.hpp"
#include "actors/varint.hpp"

#include <algorithm>

namespace netpol {

namespace {

// Expected tests are packed as unsigned LEB128 varints, per connection:
// netpol, address count, addresses..., port count, ports... At 75,000 pods
// with 20 one-address connections each that is about 10 bytes a
// connection, a seventh of the JSON the pods were sent.

void put(std::string& out, uint32_t value) {
  append_varint(out, value);
}

// Reads what put() wrote (in this process, or stored and read back); a
// malformed varint reads as 0.
uint32_t get(std::string_view in, size_t& pos) {
  bool ok = true;
  return static_cast<uint32_t>(read_varint(in, pos, ok));
}

template <class T>
void sort_unique(std::vector<T>& xs) {
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
}

} // namespace

// -- expected_tests_builder ---------------------------------------------------

uint32_t
expected_tests_builder::intern(std::unordered_map<std::string, uint32_t>& ids,
                               std::vector<std::string>& names,
                               std::string_view text) {
  // A lookup key reused, so that a name seen before costs no allocation.
  lookup_.assign(text);
  if (auto i = ids.find(lookup_); i != ids.end())
    return i->second;
  auto id = static_cast<uint32_t>(names.size());
  ids.emplace(lookup_, id);
  names.emplace_back(text);
  return id;
}

void expected_tests_builder::begin_pod() {
  packed_.clear();
  pod_netpols_.clear();
  pod_tests_ = 0;
}

void expected_tests_builder::add_connection(
  std::string_view netpol, const std::vector<std::string>& addresses,
  const std::vector<uint16_t>& ports) {
  auto netpol_id = intern(netpol_ids_, catalog_->netpols, netpol);
  if (catalog_->netpol_tests.size() < catalog_->netpols.size()) {
    catalog_->netpol_tests.resize(catalog_->netpols.size(), 0);
    catalog_->netpol_pods.resize(catalog_->netpols.size(), 0);
  }
  // A repeated address or port is still one test; order is kept.
  std::vector<uint32_t> address_ids;
  address_ids.reserve(addresses.size());
  for (auto& address : addresses) {
    auto id = intern(address_ids_, catalog_->addresses, address);
    if (std::find(address_ids.begin(), address_ids.end(), id)
        == address_ids.end())
      address_ids.push_back(id);
  }
  std::vector<uint16_t> unique_ports;
  for (auto port : ports)
    if (std::find(unique_ports.begin(), unique_ports.end(), port)
        == unique_ports.end())
      unique_ports.push_back(port);
  put(packed_, netpol_id);
  put(packed_, static_cast<uint32_t>(address_ids.size()));
  for (auto id : address_ids)
    put(packed_, id);
  put(packed_, static_cast<uint32_t>(unique_ports.size()));
  for (auto port : unique_ports)
    put(packed_, port);
  auto tests = static_cast<uint32_t>(address_ids.size() * unique_ports.size());
  pod_tests_ += tests;
  catalog_->netpol_tests[netpol_id] += tests;
  pod_netpols_.push_back(netpol_id);
}

shared_bytes expected_tests_builder::end_pod(uint32_t& tests) {
  sort_unique(pod_netpols_);
  for (auto id : pod_netpols_)
    ++catalog_->netpol_pods[id];
  tests = pod_tests_;
  return shared_bytes{std::move(packed_)};
}

round_catalog_ptr expected_tests_builder::finish() {
  address_ids_ = {};
  netpol_ids_ = {};
  catalog_->addresses.shrink_to_fit();
  catalog_->netpols.shrink_to_fit();
  return std::move(catalog_);
}

// -- expected_view ------------------------------------------------------------

expected_view::expected_view(std::string_view packed) {
  size_t pos = 0;
  while (pos < packed.size()) {
    connection c;
    c.netpol = get(packed, pos);
    auto addresses = get(packed, pos);
    c.addresses.reserve(addresses);
    for (uint32_t i = 0; i < addresses && pos < packed.size(); ++i)
      c.addresses.push_back(get(packed, pos));
    auto ports = get(packed, pos);
    c.ports.reserve(ports);
    for (uint32_t i = 0; i < ports && pos <= packed.size(); ++i)
      c.ports.push_back(static_cast<uint16_t>(get(packed, pos)));
    c.first_test = tests_;
    tests_ += static_cast<uint32_t>(c.addresses.size() * c.ports.size());
    connections_.push_back(std::move(c));
  }
}

bool plain_json_text(std::string_view text) {
  for (auto c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\')
      return false;
  return true;
}

std::string connections_json(const round_catalog& catalog,
                             std::string_view packed) {
  expected_view view{packed};
  std::string out = "[";
  for (auto& c : view.connections()) {
    if (out.size() > 1)
      out += ',';
    out += "{\"addresses\":[";
    for (size_t i = 0; i < c.addresses.size(); ++i) {
      out += i > 0 ? ",\"" : "\"";
      out += catalog.addresses[c.addresses[i]];
      out += '"';
    }
    out += "],\"ports\":[";
    for (size_t i = 0; i < c.ports.size(); ++i) {
      if (i > 0)
        out += ',';
      out += std::to_string(c.ports[i]);
    }
    out += "],\"netpol\":\"";
    out += catalog.netpols[c.netpol];
    out += "\"}";
  }
  out += ']';
  return out;
}

// -- pod_matcher --------------------------------------------------------------

pod_matcher::pod_matcher(const round_catalog& catalog, std::string_view packed)
  : catalog_(catalog), expected_(packed), matched_(expected_.tests(), false) {
  result_.expected = expected_.tests();
  for (auto& c : expected_.connections()) {
    auto [i, added] = tally_of_.try_emplace(c.netpol, result_.netpols.size());
    if (added) {
      netpol_tally tally;
      tally.netpol = c.netpol;
      result_.netpols.push_back(std::move(tally));
    }
    result_.netpols[i->second].expected
      += static_cast<uint32_t>(c.addresses.size() * c.ports.size());
  }
}

void pod_matcher::add(const results_entry& entry) {
  // Go's zero values stand in for absent fields: they match nothing real.
  auto& connections = expected_.connections();
  if (entry.connectionidx < 0
      || static_cast<uint64_t>(entry.connectionidx) >= connections.size()) {
    ++result_.unexpected;
    return;
  }
  auto& c = connections[static_cast<size_t>(entry.connectionidx)];
  if (entry.npname != catalog_.netpols[c.netpol]) {
    ++result_.unexpected;
    return;
  }
  size_t a = 0;
  while (a < c.addresses.size()
         && catalog_.addresses[c.addresses[a]] != entry.address)
    ++a;
  size_t p = 0;
  while (p < c.ports.size() && c.ports[p] != entry.port)
    ++p;
  if (a == c.addresses.size() || p == c.ports.size()) {
    ++result_.unexpected;
    return;
  }
  auto test = c.first_test + a * c.ports.size() + p;
  auto& tally = result_.netpols[tally_of_.at(c.netpol)];
  if (entry.has_timestamp) {
    success_time at{entry.timestamp_seconds, entry.timestamp_nanos,
                    std::string{entry.timestamp}};
    if (tally.first.empty() || at.before(tally.first))
      tally.first = at;
    if (tally.last.empty() || tally.last.before(at))
      tally.last = std::move(at);
  }
  if (matched_[test]) {
    ++result_.duplicates;
    return;
  }
  matched_[test] = true;
  ++result_.reported;
  ++tally.reported;
  if (entry.has_timestamp)
    ++seconds_[entry.timestamp_seconds];
}

pod_completeness pod_matcher::finish() {
  result_.missing = result_.expected - result_.reported;
  for (auto& [second, count] : seconds_) {
    result_.second_keys.push_back(second);
    result_.second_counts.push_back(count);
  }
  return std::move(result_);
}

// -- round_completeness -------------------------------------------------------

round_completeness::round_completeness(round_catalog_ptr catalog)
  : catalog_(std::move(catalog)) {
  netpols_.resize(catalog_->netpols.size());
  for (size_t i = 0; i < netpols_.size(); ++i) {
    netpols_[i].expected = catalog_->netpol_tests[i];
    totals_.expected += catalog_->netpol_tests[i];
    if (netpols_[i].expected > 0)
      ++totals_.netpols_incomplete;
  }
  totals_.netpols = static_cast<uint32_t>(netpols_.size());
}

void round_completeness::add_pod(uint32_t pod,
                                 const pod_completeness& account,
                                 bool delivered) {
  totals_.reported += account.reported;
  totals_.duplicates += account.duplicates;
  totals_.unexpected += account.unexpected;
  if (delivered)
    totals_.missing += account.missing;
  for (auto& tally : account.netpols) {
    if (tally.netpol >= netpols_.size())
      continue;
    auto& n = netpols_[tally.netpol];
    bool was_incomplete = n.reported < n.expected;
    n.reported += tally.reported;
    if (was_incomplete && n.reported >= n.expected)
      --totals_.netpols_incomplete;
    auto missing = tally.expected - tally.reported;
    if (delivered && missing > 0) {
      if (n.missing == 0)
        ++totals_.netpols_missing;
      n.missing += missing;
      ++n.pods_missing;
      if (n.sample_pods.size() < sample_pods_per_netpol)
        n.sample_pods.push_back(pod);
    }
    if (!tally.first.empty() && (n.first.empty() || tally.first.before(n.first)))
      n.first = tally.first;
    if (!tally.last.empty() && (n.last.empty() || n.last.before(tally.last)))
      n.last = tally.last;
  }
  for (size_t i = 0; i < account.second_keys.size(); ++i)
    seconds_[account.second_keys[i]] += account.second_counts[i];
}

uint32_t round_completeness::unknown(uint32_t netpol) const {
  auto& n = netpols_[netpol];
  return n.expected - n.reported - n.missing;
}

completeness_totals round_completeness::totals() const {
  auto result = totals_;
  result.unknown = result.expected - result.reported - result.missing;
  return result;
}

std::vector<uint32_t> round_completeness::worst_netpols(size_t limit) const {
  std::vector<uint32_t> order(netpols_.size());
  for (uint32_t i = 0; i < order.size(); ++i)
    order[i] = i;
  if (limit == 0 || limit > order.size())
    limit = order.size();
  auto worse = [this](uint32_t x, uint32_t y) {
    auto& a = netpols_[x];
    auto& b = netpols_[y];
    if (a.missing != b.missing)
      return a.missing > b.missing;
    auto ua = unknown(x);
    auto ub = unknown(y);
    if (ua != ub)
      return ua > ub;
    return catalog_->netpols[x] < catalog_->netpols[y];
  };
  auto middle = order.begin() + static_cast<std::ptrdiff_t>(limit);
  if (middle == order.end())
    std::sort(order.begin(), order.end(), worse);
  else
    std::partial_sort(order.begin(), middle, order.end(), worse);
  order.erase(middle, order.end());
  return order;
}

enforcement_curve round_completeness::curve(size_t max_points) const {
  enforcement_curve result;
  if (seconds_.empty())
    return result;
  // The earliest success of all netpols is the start.
  for (auto& n : netpols_)
    if (!n.first.empty()
        && (result.start.empty() || n.first.before(result.start)))
      result.start = n.first;
  auto first = seconds_.begin()->first;
  auto span = seconds_.rbegin()->first - first + 1;
  auto points = static_cast<uint64_t>(std::max<size_t>(1, max_points));
  result.bucket_seconds = static_cast<uint32_t>(
    (static_cast<uint64_t>(span) + points - 1) / points);
  auto buckets = static_cast<size_t>((span + result.bucket_seconds - 1)
                                     / result.bucket_seconds);
  result.succeeded.assign(buckets, 0);
  for (auto& [second, count] : seconds_)
    result.succeeded[static_cast<size_t>((second - first)
                                         / result.bucket_seconds)]
      += count;
  for (size_t i = 1; i < buckets; ++i)
    result.succeeded[i] += result.succeeded[i - 1];
  return result;
}

} // namespace netpol
