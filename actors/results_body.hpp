#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace netpol {

/// What validating one pod's /results body found.
struct results_check {
  bool ok = false;
  uint32_t entries = 0; // connTest objects in the array
  std::string error;    // why not ok, with the byte offset
};

/// Checks, without building a DOM, that `body` is what kube-burner can decode
/// into []connTest: a JSON array of objects whose known fields have the right
/// types (address, npname: strings; port, connectionidx: integers;
/// timestamp: an RFC 3339 string as Go's time.Time expects). Unknown fields
/// pass, as they do in Go's decoder. A body that fails here would make
/// kube-burner's decode of the whole /results fail, losing the run.
results_check validate_results_body(std::string_view body);

/// True for Go's time.Time JSON text: 2024-10-01T11:18:33.247061614Z or
/// with a ±hh:mm offset; any number of fractional digits.
bool is_rfc3339(std::string_view text);

} // namespace netpol
