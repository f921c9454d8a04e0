#include "actors/round_samples.hpp"

#include <cctype>

namespace netpol {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim_right(std::string_view x) {
  while (!x.empty() && is_space(x.back()))
    x.remove_suffix(1);
  return x;
}

} // namespace

bool extends(std::string_view older, uint32_t older_entries,
             std::string_view newer) {
  if (older_entries == 0)
    return true; // "[]" or "null": anything extends nothing
  older = trim_right(older);
  if (older.empty() || older.back() != ']')
    return false;
  // Everything up to the last entry's end, then "," and more, or "]".
  auto head = trim_right(older.substr(0, older.size() - 1));
  if (newer.substr(0, head.size()) != head)
    return false;
  auto rest = newer.substr(head.size());
  while (!rest.empty() && is_space(rest.front()))
    rest.remove_prefix(1);
  return !rest.empty() && (rest.front() == ',' || rest.front() == ']');
}

sample_taken round_samples::take(uint32_t index, pod_outcome& out,
                                 int64_t now_unix_ms) {
  ++taken;
  auto [i, added] = pods.try_emplace(index);
  auto& sample = i->second;
  if (!added
      && !extends(sample.body.view(), sample.entries, out.body.view())) {
    if (sample.not_extending++ == 0) {
      sample.restart_seen_unix_ms = now_unix_ms;
      ++restarted;
    }
    return sample_taken::not_extending;
  }
  sample.body = std::move(out.body);
  sample.entries = out.entries;
  sample.taken_unix_ms = now_unix_ms;
  return added ? sample_taken::first : sample_taken::extended;
}

sampled_view::sampled_view(round_catalog_ptr catalog)
  : completeness(std::move(catalog)) {
  // nop
}

void sampled_view::add(uint32_t index, uint32_t tests,
                       const pod_completeness& account, bool delivered,
                       int64_t taken_unix_ms) {
  completeness.add_pod(index, account, delivered);
  ++pods;
  if (oldest_unix_ms == 0 || taken_unix_ms < oldest_unix_ms)
    oldest_unix_ms = taken_unix_ms;
  if (tests > 0 && account.reported == tests)
    ++pods_complete;
  if (account.reported == tests && account.duplicates == 0
      && account.unexpected == 0)
    return;
  sampled_pod row;
  row.index = index;
  row.reported = account.reported;
  row.missing = delivered ? account.missing : 0;
  row.duplicates = account.duplicates;
  row.unexpected = account.unexpected;
  row.unknown = tests - row.reported - row.missing;
  if (row.missing > 0)
    for (auto& tally : account.netpols)
      if (tally.reported < tally.expected)
        row.missing_netpols.push_back(tally.netpol);
  listed.push_back(std::move(row));
}

const pod_sample* round_samples::find(uint32_t index) const {
  auto i = pods.find(index);
  return i == pods.end() ? nullptr : &i->second;
}

} // namespace netpol
