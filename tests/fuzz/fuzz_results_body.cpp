// libFuzzer target for netpol::validate_results_body, the SAX check of a
// pod's /results body, differential against nlohmann's DOM parser.
//
// Reference: the body parses (json::parse) as an array of objects whose
// known fields are well typed (address, npname: strings; port,
// connectionidx: integers; timestamp: a string matching the documented
// RFC 3339 form, checked here by a POSIX regex independent of is_rfc3339).
// Invariants (abort if violated):
// - validator ok  => reference ok, with `entries` == the array's size (also
//   with repeated keys: every occurrence was checked, so the last one too);
// - reference ok  => validator ok, except when an entry repeats a key: the
//   DOM keeps only the last value, the validator (like Go's decoder) checks
//   every occurrence, so it may refuse;
// - validator not ok => its error text is non-empty;
// - a raw NUL byte makes the reference refuse (see check_with_dom);
// - is_rfc3339 agrees with the regex on every string at entry level and on
//   the raw input.
#include "actors/results_body.hpp"

#include "fuzz_check.hpp"

#include <nlohmann/json.hpp>

#include <regex.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using json = nlohmann::json;

/// The documented form: YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm), T and Z in
/// either case, any number of fractional digits.
bool rfc3339_oracle(std::string_view text) {
  static regex_t re = [] {
    regex_t r;
    int rc = regcomp(&r,
                     "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                     "(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
                     REG_EXTENDED | REG_NOSUB);
    if (rc != 0)
      std::abort();
    return r;
  }();
  if (text.find('\0') != std::string_view::npos)
    return false; // regexec stops at NUL; no NUL can match anyway
  std::string copy{text};
  if (regexec(&re, copy.c_str(), 0, nullptr, 0) != 0)
    return false;
  // Ranges as Go checks them, computed another way: through timegm, which
  // normalizes out-of-range fields, so a valid date survives the round trip.
  int year, month, day, hour, minute, second;
  std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &month, &day,
              &hour, &minute, &second);
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  auto t = timegm(&tm);
  std::tm back{};
  gmtime_r(&t, &back);
  if (month < 1 || month > 12 || back.tm_mday != day || back.tm_mon != month - 1
      || hour > 23 || minute > 59 || second > 59)
    return false;
  auto zone = copy.find_last_of("Z+-");
  if (copy[zone] != 'Z') {
    int zh = std::atoi(copy.c_str() + zone + 1);
    int zm = std::atoi(copy.c_str() + zone + 4);
    if (zh > 23 || zm > 59)
      return false;
  }
  return true;
}

void check_rfc3339(std::string_view text) {
  bool mine = netpol::is_rfc3339(text);
  bool oracle = rfc3339_oracle(text);
  FUZZ_CHECK(mine == oracle, "is_rfc3339 says %d, the regex %d for \"%.*s\"",
             mine, oracle, static_cast<int>(text.size()), text.data());
}

bool field_ok(const std::string& key, const json& value) {
  if ((key == "address" || key == "npname") && !value.is_null())
    return value.is_string();
  if (key == "timestamp" && !value.is_null()) {
    if (!value.is_string())
      return false;
    auto& text = value.get_ref<const std::string&>();
    check_rfc3339(text);
    return rfc3339_oracle(text);
  }
  if (value.is_null())
    return true; // Go keeps the zero value
  if (key == "port")
    return value.is_number_integer()
           && (value.is_number_unsigned()
                 ? value.get<uint64_t>() <= 2147483647u
                 : value.get<int64_t>() >= -2147483648ll
                     && value.get<int64_t>() <= 2147483647ll);
  if (key == "connectionidx")
    return value.is_number_integer()
           && (!value.is_number_unsigned()
               || value.get<uint64_t>() <= 9223372036854775807ull);
  return true;
}

struct reference {
  bool parsed = false;
  bool ok = false;
  size_t entries = 0;
  bool duplicate_keys = false; // some entry object repeats a key
};

reference check_with_dom(std::string_view body) {
  reference ref;
  // Tracks the keys of each entry object (depth 2) to spot duplicates.
  std::set<std::string> keys;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::object_start)
      keys.clear();
    else if (depth == 2 && event == json::parse_event_t::key
             && !keys.insert(parsed.get<std::string>()).second)
      ref.duplicate_keys = true;
    else if (depth == 2 && event == json::parse_event_t::value
             && parsed.is_string())
      check_rfc3339(parsed.get_ref<const std::string&>());
    return true;
  };
  json doc = json::parse(body.begin(), body.end(), on_event, false);
  if (doc.is_discarded())
    return ref;
  // nlohmann stops reading at a NUL byte, so it accepts "[]\0anything";
  // Go's decoder refuses any raw NUL (outside strings it is no JSON, inside
  // one an unescaped control character), and so must the validator.
  if (body.find('\0') != std::string_view::npos)
    return ref;
  ref.parsed = true;
  if (!doc.is_array())
    return ref;
  for (auto& entry : doc) {
    if (!entry.is_object())
      return ref;
    for (auto& [key, value] : entry.items())
      if (!field_ok(key, value))
        return ref;
  }
  ref.ok = true;
  ref.entries = doc.size();
  return ref;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz_limit_stack();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body{reinterpret_cast<const char*>(data), size};
  if (size <= 64)
    check_rfc3339(body);
  auto check = netpol::validate_results_body(body);
  auto ref = check_with_dom(body);
  if (check.ok) {
    FUZZ_CHECK(ref.parsed, "validator ok, but json::parse fails");
    // Every occurrence of a key was checked, so the last one too.
    FUZZ_CHECK(ref.ok,
               "validator ok, but the DOM is not a well-typed entry array");
    FUZZ_CHECK(check.entries == ref.entries,
               "validator counts %u entries, the DOM %zu",
               static_cast<unsigned>(check.entries), ref.entries);
    FUZZ_CHECK(check.error.empty(), "ok with an error text");
  } else {
    FUZZ_CHECK(!check.error.empty(), "refused without an error text");
    FUZZ_CHECK(!ref.ok || ref.duplicate_keys,
               "validator refuses a well-typed entry array: %s",
               check.error.c_str());
  }
  return 0;
}
