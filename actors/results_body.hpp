#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace netpol {

/// What validating one pod's /results body found.
struct results_check {
  bool ok = false;
  uint32_t entries = 0; // array elements (connTest objects and nulls)
  std::string error;    // why not ok, with the byte offset or entry
};

/// One connTest as kube-burner's decoder ends up with it: each field holds
/// the last non-null value given under any key Go matches to it.
struct results_entry {
  uint32_t index = 0;          // position in the array
  bool is_null = false;        // the element was `null` (a zero connTest)
  bool has_address = false, has_npname = false, has_port = false,
       has_connectionidx = false, has_timestamp = false;
  std::string_view address;    // decoded as Go decodes it (escapes resolved, invalid UTF-8 -> U+FFFD)
  std::string_view npname;
  int32_t port = 0;
  int64_t connectionidx = 0;
  std::string_view timestamp;  // the raw text between the quotes, as sent
  int64_t timestamp_seconds = 0; // Unix seconds, UTC (years 0..9999 fit)
  uint32_t timestamp_nanos = 0;
};
using results_visitor = std::function<void(const results_entry&)>;

/// Checks in one pass, without building a DOM, that `body` is a pod's
/// /results answer kube-burner can decode: exactly what Go 1.19's
///   json.Unmarshal(body, &[]connTest{})
/// accepts, where also `{"p":` body `}` is valid JSON for Go (kube-burner
/// decodes the proxy's whole /results, one level deeper, as
/// map[string][]connTest; Go refuses nesting past 10,000, so a body may
/// nest 9,999 deep). kube-burner's types (pkg/measurements/netpol_latency.go):
///   address, npname string; port int32; connectionidx int (64-bit);
///   timestamp time.Time.
/// Go's rules that this follows:
/// - the body is `null` (no entries) or an array whose elements are objects
///   or `null` (a zero connTest, counted as an entry);
/// - object keys name fields case-insensitively with Go's folding (ASCII
///   case, and U+017F 'ſ' for 's'), after unescaping; every occurrence of a
///   field's key is decoded in order, `null` leaves the field as it was;
/// - port and connectionidx take integer syntax only, in their type's range;
///   address and npname any JSON string;
/// - timestamp: time.Time.UnmarshalJSON gets the string's raw bytes (no
///   escape decoded) for time.Parse(RFC3339): see is_go_rfc3339;
/// - other keys' values are only syntax-checked (so `1e999` passes);
/// - JSON syntax as Go's scanner: no byte order mark, no raw control
///   characters in strings, but any other bytes in them (invalid UTF-8 and
///   lone surrogate escapes become U+FFFD).
/// A body that fails here would make kube-burner's decode of the whole
/// /results fail, losing the run.
///
/// With `on_entry`, calls it once per array element, in order, as soon as
/// the element is read (so only while the body is valid so far: on a body
/// that fails later, discard what it saw); the entry's views are valid only
/// during the call. Without it, decodes nothing validation does not need.
results_check validate_results_body(std::string_view body,
                                    const results_visitor& on_entry = {});

/// True for the text between the quotes of a JSON string that Go 1.19's
/// time.Time.UnmarshalJSON accepts: time.Parse(`"`+RFC3339+`"`, raw), which
/// is lenient: YYYY-MM-DDTH[H]:MM:SS[(.|,)digits](Z|±hh:mm) where the hour
/// may have one digit, the seconds may be left out before a fraction
/// (11:18:.5 is 11:18:00.5), any number of fractional digits is read (the
/// first nine count), and each of the offset's hh and mm is two digits or a
/// sign and one digit, unchecked in range (+99:99 passes; +-1:00 is -1
/// hour).
/// Dates and times are range-checked (days per month, leap years, hour
/// < 24, minute and second < 60). Escapes are not decoded, so no text with
/// a backslash passes. When it passes, sets the optional outputs: Unix
/// seconds (UTC) and nanoseconds.
bool is_go_rfc3339(std::string_view raw, int64_t* seconds = nullptr,
                   uint32_t* nanos = nullptr);

} // namespace netpol
