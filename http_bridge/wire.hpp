// JSON shapes on the wire to kube-burner and operators.
#pragma once

#include "messages/types.hpp"

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace netpol {

/// Poll body, also /initiate's and /stop's: {"result": <done>, "round": ..,
/// "phase": .., counts...} followed by a newline, as the original. `done` is
/// the flag kube-burner waits for; the counts ride along (its decoder ignores
/// them).
std::string poll_json(const round_status& status, bool done);

/// What the polls answer after a refused /initiate, while no round runs:
/// "result" is not a boolean, so kube-burner's decoder refuses it and its
/// wait ends at once; the message points at the proxy's log.
std::string refused_poll_json(const std::string& reason);

/// The /status body: phase, timings, counts, problem pods, optionally all;
/// completeness from collection on; superseded rounds; the last refusal;
/// with `timeline`, pods by state over the round (the live page's chart).
std::string status_report_json(const status_report& report,
                               bool timeline = false);

/// The live page's settings block: version, commit, every setting.
std::string settings_json(const std::string& described);

/// The /report body: completeness totals, netpols worst first, pods with a
/// problem, the enforcement curve.
std::string completeness_json(const completeness_report& report);

/// {"error": <code>, "message": <text>} and a newline.
std::string error_json(std::string_view code, std::string_view message);

/// Streams {"<ip>": <the pod's bytes>, ...} without building it in one
/// piece: total size up front, then the pods' own bytes, never copied.
class results_writer {
public:
  explicit results_writer(results_snapshot snapshot);

  /// Exact byte count of the whole document.
  size_t size() const {
    return size_;
  }

  /// Appends the next pieces, about `max_bytes` (at least one pod), to
  /// `out`; they stay valid until the next call. False once the document
  /// is complete.
  bool next(std::vector<std::string_view>& out, size_t max_bytes);

private:
  results_snapshot snapshot_;
  size_t size_ = 0;
  size_t next_pod_ = 0;
  bool opened_ = false;
  bool closed_ = false;
  std::deque<std::string> prefixes_; // of the current batch; stable views
};

} // namespace netpol
