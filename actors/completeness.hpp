// What each pod was asked to test against what it reported: the one thing
// only the proxy can see (kube-burner sees successes only). Plain values:
// the bridge builds the expected tests while it validates /initiate, a
// worker matches a pod's /results against them in the scan it already
// makes, and the coordinator adds the pods up.
#pragma once

#include "messages/types.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace netpol {

struct results_entry;

// -- building the expected tests ---------------------------------------------

using round_catalog_ptr = std::shared_ptr<const round_catalog>;

/// Builds a round_catalog and each pod's expected tests while /initiate is
/// read, one connection at a time.
class expected_tests_builder {
public:
  /// Starts the next pod.
  void begin_pod();

  /// One connection of the current pod: its netpol, addresses and ports
  /// (repeats are tested once).
  void add_connection(std::string_view netpol,
                      const std::vector<std::string>& addresses,
                      const std::vector<uint16_t>& ports);

  /// The current pod's expected tests, packed (see expected_view).
  shared_bytes end_pod(uint32_t& tests);

  /// The catalog; the builder is spent afterwards.
  round_catalog_ptr finish();

private:
  uint32_t intern(std::unordered_map<std::string, uint32_t>& ids,
                  std::vector<std::string>& names, std::string_view text);

  std::unordered_map<std::string, uint32_t> address_ids_;
  std::unordered_map<std::string, uint32_t> netpol_ids_;
  std::shared_ptr<round_catalog> catalog_ = std::make_shared<round_catalog>();
  std::string packed_;              // the current pod's
  std::vector<uint32_t> pod_netpols_; // netpols of the current pod
  std::string lookup_;
  uint32_t pod_tests_ = 0;
};

/// A pod's expected tests unpacked for matching: connection i tests every
/// (address, port) pair of its lists, tests numbered in that order.
class expected_view {
public:
  struct connection {
    uint32_t netpol = 0;
    uint32_t first_test = 0;
    std::vector<uint32_t> addresses;
    std::vector<uint16_t> ports;
  };

  explicit expected_view(std::string_view packed);

  const std::vector<connection>& connections() const {
    return connections_;
  }

  uint32_t tests() const {
    return tests_;
  }

private:
  std::vector<connection> connections_;
  uint32_t tests_ = 0;
};

/// The connection list a pod was sent, rebuilt from its packed tests, in
/// kube-burner's form: [{"addresses":[..],"ports":[..],"netpol":".."},..].
/// Equal to the bytes sent when the list was canonical (pod_plan).
std::string connections_json(const round_catalog& catalog,
                             std::string_view packed);

/// Whether `text` needs no escape inside a JSON string.
bool plain_json_text(std::string_view text);

// -- one pod ------------------------------------------------------------------

/// Matches one pod's reported entries against its expected tests.
class pod_matcher {
public:
  pod_matcher(const round_catalog& catalog, std::string_view packed);

  /// One reported entry, as Go's decoder sees it.
  void add(const results_entry& entry);

  /// The pod's account; call once, after every entry.
  pod_completeness finish();

private:
  const round_catalog& catalog_;
  expected_view expected_;
  std::vector<bool> matched_;
  pod_completeness result_;
  std::unordered_map<uint32_t, size_t> tally_of_; // netpol -> result_.netpols
  std::map<int64_t, uint32_t> seconds_;           // first successes per second
};

// -- the round ----------------------------------------------------------------

/// One netpol's account over the round.
struct netpol_account {
  uint32_t expected = 0;
  uint32_t reported = 0;
  uint32_t missing = 0;
  uint32_t pods_missing = 0;
  success_time first;
  success_time last;
  std::vector<uint32_t> sample_pods; // a few pods with a missing test
};

/// Adds up the pods of a round as they are collected. Expected tests of
/// pods not (yet) collected, or never delivered, are `unknown`.
class round_completeness {
public:
  static constexpr size_t sample_pods_per_netpol = 3;

  round_completeness() = default;
  explicit round_completeness(round_catalog_ptr catalog);

  /// A collected pod's account; `delivered` is false when it never took
  /// its list, so its unmatched tests stay unknown rather than missing.
  void add_pod(uint32_t pod, const pod_completeness& account, bool delivered);

  completeness_totals totals() const;

  const round_catalog* catalog() const {
    return catalog_.get();
  }

  const std::vector<netpol_account>& netpols() const {
    return netpols_;
  }

  /// Netpols indices, worst first: most missing, then most unknown, name;
  /// the first `limit` of them (0: all). The live page asks for a few
  /// hundred every few seconds of a round that may have a million netpols:
  /// a partial sort, not a whole one (1.8 s at 1.5 million).
  std::vector<uint32_t> worst_netpols(size_t limit = 0) const;

  /// Tests first succeeded per second since the earliest success.
  enforcement_curve curve(size_t max_points = 3600) const;

  /// Unknown tests of one netpol.
  uint32_t unknown(uint32_t netpol) const;

private:
  round_catalog_ptr catalog_;
  std::vector<netpol_account> netpols_;
  std::map<int64_t, uint64_t> seconds_;
  completeness_totals totals_; // netpols_incomplete and _missing kept as
                                // pods are added: totals() is per request

};

} // namespace netpol
