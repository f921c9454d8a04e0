#include "lab/report.hpp"

#include "messages/types.hpp"
#include "podsim/json_scan.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

namespace netpol::lab {

namespace {

using json = nlohmann::json;
using podsim::fault;


/// The raw value of every member of the /results object, by pod IP, as the
/// proxy wrote it: everything after `"ip":` up to the next `,` or `}`. Stops
/// at the first malformed member (the JSON check reports that).
std::unordered_map<std::string, std::string_view>
raw_members(std::string_view body) {
  namespace scan = podsim::json_scan;
  std::unordered_map<std::string, std::string_view> out;
  auto pos = scan::skip_whitespace(body, 0);
  if (pos >= body.size() || body[pos] != '{')
    return out;
  pos = scan::skip_whitespace(body, pos + 1);
  while (pos < body.size() && body[pos] == '"') {
    auto key_end = scan::skip_string(body, pos);
    if (key_end == scan::npos)
      break;
    std::string key{body.substr(pos + 1, key_end - pos - 2)};
    pos = scan::skip_whitespace(body, key_end);
    if (pos >= body.size() || body[pos] != ':')
      break;
    auto value_start = pos + 1;
    auto value_end = scan::skip_value(body,
                                      scan::skip_whitespace(body, value_start));
    if (value_end == scan::npos)
      break;
    pos = scan::skip_whitespace(body, value_end);
    out.emplace(std::move(key), body.substr(value_start, pos - value_start));
    if (pos >= body.size() || body[pos] != ',')
      break;
    pos = scan::skip_whitespace(body, pos + 1);
  }
  return out;
}

uint64_t number(const json& j, const char* key) {
  auto i = j.find(key);
  if (i == j.end() || !i->is_number())
    return 0;
  return i->get<uint64_t>();
}

double seconds_of(const json& j, const char* key) {
  auto i = j.find(key);
  return i != j.end() && i->is_number() ? i->get<double>() : 0.0;
}

std::string text_of(const json& j, const char* key) {
  auto i = j.find(key);
  return i != j.end() && i->is_string() ? i->get<std::string>() : "";
}

/// 12345 -> "12,345".
std::string grouped(uint64_t n) {
  auto digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

std::string fixed(double x, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, x);
  return buf;
}

std::string megabytes(uint64_t bytes) {
  return fixed(bytes / 1048576.0, 1) + " MB";
}

std::string shown_value(const json& value) {
  auto text = value.dump();
  return text.size() > 40 ? text.substr(0, 37) + "..." : text;
}

std::string why_missing(const json* detail) {
  if (!detail)
    return "not in /status?pods=1";
  std::string out = "state " + text_of(*detail, "state") + ", delivery "
                    + text_of(*detail, "delivery");
  for (auto key : {"delivery_error", "collection_error"})
    if (auto text = text_of(*detail, key); !text.empty())
      out += std::string{", "} + key + ": " + text;
  return out;
}

std::string fault_summary(const podsim::scenario& s) {
  std::string out;
  for (auto& group : s.faults) {
    if (group.pods == 0)
      continue;
    out += (out.empty() ? "" : ", ") + std::to_string(group.pods) + " "
           + podsim::to_string(group.kind);
    if (group.kind == fault::flaky)
      out += " (" + std::to_string(group.failures) + " failures)";
    if (group.kind == fault::slow)
      out += " (+" + podsim::format_duration(group.delay) + ")";
    if (group.kind == fault::trickle_headers
        || group.kind == fault::slow_answer)
      out += " (1 byte per " + podsim::format_duration(group.interval) + ")";
    if (group.kind == fault::partial || group.kind == fault::duplicate)
      out += " (" + fixed(group.test_fraction, 2) + " of the tests)";
    if (group.latency)
      out += " (latency " + podsim::format_duration(*group.latency) + ")";
  }
  return out.empty() ? "no faults" : out;
}

std::string proxy_summary(const podsim::proxy_config& p) {
  std::string out = std::to_string(p.workers) + " workers, connect "
                    + podsim::format_duration(p.connect_timeout)
                    + ", request "
                    + podsim::format_duration(p.request_timeout)
                    + ", retries " + std::to_string(p.retries) + ", backoff "
                    + podsim::format_duration(p.backoff_base) + ".."
                    + podsim::format_duration(p.backoff_cap);
  for (auto& arg : p.extra_args)
    out += " " + arg;
  return out;
}

std::string verdict(const scenario_report& r) {
  if (r.ok())
    return "ok";
  if (!r.error.empty())
    return "FAIL: " + r.error;
  if (!r.results_valid_json)
    return "FAIL: /results is not valid JSON";
  if (!r.problems.empty())
    return "FAIL: " + std::to_string(r.problems.size())
           + " integrity problems";
  return "FAIL: over the bound";
}

json counts_json(const kind_counts& c) {
  return json{{"pods", c.pods},
              {"delivered", c.delivered},
              {"unconfirmed", c.unconfirmed},
              {"failed", c.failed},
              {"collected", c.collected},
              {"collect_failed", c.collect_failed},
              {"entries_expected", c.entries_expected},
              {"entries_received", c.entries_received},
              {"delivery_attempts", c.delivery_attempts},
              {"collection_attempts", c.collection_attempts},
              {"duplicate_checks", c.duplicate_checks},
              {"in_results", c.in_results},
              {"intact", c.intact},
              {"tests", c.tests},
              {"entries_omitted", c.entries_omitted},
              {"entries_duplicated", c.entries_duplicated},
              {"entries_alien", c.entries_alien}};
}

json completeness_json(const completeness_counts& c) {
  return json{{"expected", c.expected},     {"reported", c.reported},
              {"missing", c.missing},       {"duplicates", c.duplicates},
              {"unexpected", c.unexpected}, {"unknown", c.unknown},
              {"pods_incomplete", c.pods_incomplete}};
}

json phase_json(const phase_report& p) {
  return json{{"seconds", p.seconds},
              {"calls", p.calls},
              {"call_bound_seconds", p.bound.call_seconds},
              {"pod_bound_seconds", p.bound.pod_seconds},
              {"bound_seconds", p.bound.phase_seconds},
              {"within_bound", p.within}};
}

long long ms(std::chrono::milliseconds d) {
  return static_cast<long long>(d.count());
}


// ---------------------------------------------------------------------------
// Completeness: the lab's own count.

/// One expected test, as a map key: connectionidx, address, port, npname.
std::string test_key(int64_t connectionidx, const std::string& address,
                     int64_t port, const std::string& npname) {
  std::string key = std::to_string(connectionidx);
  key += '\0';
  key += address;
  key += '\0';
  key += std::to_string(port);
  key += '\0';
  key += npname;
  return key;
}

/// The expected tests of a connection list (kube-burner's form), by key,
/// with their netpol; nullopt if it is not such a list.
std::optional<std::map<std::string, std::string>>
expected_tests(const json& list) {
  if (!list.is_array())
    return std::nullopt;
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& c = list[i];
    if (!c.is_object())
      return std::nullopt;
    auto addresses = c.find("addresses");
    auto ports = c.find("ports");
    auto netpol = c.find("netpol");
    if (addresses == c.end() || ports == c.end() || netpol == c.end()
        || !addresses->is_array() || !ports->is_array()
        || !netpol->is_string())
      return std::nullopt;
    for (auto& a : *addresses) {
      if (!a.is_string())
        return std::nullopt;
      for (auto& p : *ports) {
        if (!p.is_number_integer())
          return std::nullopt;
        out.emplace(test_key(static_cast<int64_t>(i), a.get<std::string>(),
                             p.get<int64_t>(), netpol->get<std::string>()),
                    netpol->get<std::string>());
      }
    }
  }
  return out;
}

/// The key an entry of a /results array matches, if it has the four fields
/// with their types.
std::optional<std::string> entry_key(const json& e) {
  if (!e.is_object())
    return std::nullopt;
  auto address = e.find("address");
  auto port = e.find("port");
  auto idx = e.find("connectionidx");
  auto npname = e.find("npname");
  if (address == e.end() || port == e.end() || idx == e.end()
      || npname == e.end() || !address->is_string()
      || !port->is_number_integer() || !idx->is_number_integer()
      || !npname->is_string())
    return std::nullopt;
  return test_key(idx->get<int64_t>(), address->get<std::string>(),
                  port->get<int64_t>(), npname->get<std::string>());
}

struct netpol_truth {
  uint64_t expected = 0;
  uint64_t reported = 0;
  uint64_t missing = 0;
  uint64_t unknown = 0;
  uint64_t pods_missing = 0;
  std::string first_success; // RFC 3339 with nine digits, as the pods write
  std::string last_success;  // them: text order is time order
};

struct pod_truth {
  bool collected = false;
  completeness_counts counts;
};

/// One pod's figures: its expected tests against the body it served (if
/// it was collected), netpol tallies added to `netpols`.
pod_truth count_pod(const std::map<std::string, std::string>& expected,
                    bool collected, bool took_list, const std::string& served,
                    std::map<std::string, netpol_truth>& netpols) {
  pod_truth t;
  t.collected = collected;
  t.counts.expected = expected.size();
  for (auto& [key, netpol] : expected)
    ++netpols[netpol].expected;
  if (!collected) {
    t.counts.unknown = expected.size();
    for (auto& [key, netpol] : expected)
      ++netpols[netpol].unknown;
    t.counts.pods_incomplete = t.counts.unknown > 0;
    return t;
  }
  std::map<std::string, uint64_t> matched;
  auto entries = json::parse(served, nullptr, false);
  if (entries.is_array()) {
    for (auto& e : entries) {
      auto key = entry_key(e);
      auto test = key ? expected.find(*key) : expected.end();
      if (test == expected.end()) {
        ++t.counts.unexpected;
        continue;
      }
      if (matched[*key]++ > 0)
        ++t.counts.duplicates;
      auto& np = netpols[test->second];
      if (auto ts = e.find("timestamp"); ts != e.end() && ts->is_string()) {
        auto text = ts->get<std::string>();
        if (np.first_success.empty() || text < np.first_success)
          np.first_success = text;
        if (np.last_success.empty() || text > np.last_success)
          np.last_success = text;
      }
    }
  }
  std::set<std::string> missing_netpols;
  for (auto& [key, netpol] : expected) {
    if (matched.count(key)) {
      ++t.counts.reported;
      ++netpols[netpol].reported;
    } else if (!took_list) {
      // It never took its list, so it could not test: unknown, not missing.
      ++t.counts.unknown;
      ++netpols[netpol].unknown;
    } else {
      ++t.counts.missing;
      ++netpols[netpol].missing;
      missing_netpols.insert(netpol);
    }
  }
  for (auto& netpol : missing_netpols)
    ++netpols[netpol].pods_missing;
  t.counts.pods_incomplete = t.counts.missing + t.counts.unknown > 0;
  return t;
}

// ---------------------------------------------------------------------------
// Completeness: the proxy's report.

constexpr const char* count_fields[] = {"expected",   "reported",
                                        "missing",    "duplicates",
                                        "unexpected", "unknown"};
constexpr const char* netpol_fields[] = {"expected", "reported", "missing",
                                         "unknown", "pods_missing"};

bool is_count(const json& j, const char* key) {
  auto i = j.find(key);
  return i != j.end() && i->is_number_unsigned();
}

/// The first of `keys` that `j` lacks as a non-negative integer, or "".
template <size_t N>
std::string lacking(const json& j, const char* const (&keys)[N]) {
  if (!j.is_object())
    return "(not an object)";
  for (auto key : keys)
    if (!is_count(j, key))
      return key;
  return "";
}

completeness_counts counts_of_row(const json& row) {
  completeness_counts c;
  c.expected = number(row, "expected");
  c.reported = number(row, "reported");
  c.missing = number(row, "missing");
  c.duplicates = number(row, "duplicates");
  c.unexpected = number(row, "unexpected");
  c.unknown = number(row, "unknown");
  c.pods_incomplete = c.missing + c.unknown > 0;
  return c;
}

std::string figures(const completeness_counts& c, bool with_pods) {
  std::string out = "expected " + std::to_string(c.expected) + ", reported "
                    + std::to_string(c.reported) + ", missing "
                    + std::to_string(c.missing) + ", duplicates "
                    + std::to_string(c.duplicates) + ", unexpected "
                    + std::to_string(c.unexpected) + ", unknown "
                    + std::to_string(c.unknown);
  if (with_pods)
    out += ", pods incomplete " + std::to_string(c.pods_incomplete);
  return out;
}

std::string netpol_figures(const json& row) {
  std::string out;
  for (auto key : netpol_fields)
    out += (out.empty() ? "" : ", ") + std::string{key} + " "
           + std::to_string(number(row, key));
  return out;
}

std::string netpol_figures(const netpol_truth& t) {
  return "expected " + std::to_string(t.expected) + ", reported "
         + std::to_string(t.reported) + ", missing "
         + std::to_string(t.missing) + ", unknown "
         + std::to_string(t.unknown) + ", pods_missing "
         + std::to_string(t.pods_missing);
}

/// How the proxy's row of a netpol differs from the truth; "" if it does not.
std::string netpol_difference(const json& row, const netpol_truth& t) {
  bool same = number(row, "expected") == t.expected
              && number(row, "reported") == t.reported
              && number(row, "missing") == t.missing
              && number(row, "unknown") == t.unknown
              && number(row, "pods_missing") == t.pods_missing;
  std::string out;
  if (!same)
    out = "proxy " + netpol_figures(row) + "; truth " + netpol_figures(t);
  // Times of the first and last success, when the proxy names them.
  for (auto [key, want] : {std::pair{"first_success", &t.first_success},
                           std::pair{"last_success", &t.last_success}}) {
    auto i = row.find(key);
    if (i == row.end() || i->is_null()) {
      if (!want->empty() && i != row.end())
        out += std::string{out.empty() ? "" : "; "} + key + ": proxy null, truth "
               + *want;
      continue;
    }
    auto got = i->is_string() ? i->get<std::string>() : i->dump();
    if (got != *want)
      out += std::string{out.empty() ? "" : "; "} + key + ": proxy " + got
             + ", truth " + (want->empty() ? "none" : *want);
  }
  return out;
}

// ---------------------------------------------------------------------------
// What kube-burner's Go decoder refuses that nlohmann accepts.

/// Deepest nesting of arrays and objects in a JSON text (strings skipped).
size_t nesting_depth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

/// Levels of arrays and objects in a value (1 for [] or {}, 0 for a
/// scalar), without recursion: too_deep's member is 10,001 arrays deep.
size_t value_depth(const json& root) {
  size_t deepest = 0;
  std::vector<std::pair<const json*, size_t>> todo{{&root, 1}};
  while (!todo.empty()) {
    auto [value, depth] = todo.back();
    todo.pop_back();
    if (!value->is_structured())
      continue;
    deepest = std::max(deepest, depth);
    for (auto& child : *value)
      todo.emplace_back(&child, depth + 1);
  }
  return deepest;
}

std::string lowercase(std::string text) {
  for (auto& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

/// Why kube-burner could not decode this /results (into map[string][]connTest
/// with encoding/json): the pod whose value it fails on ("" for the body as a
/// whole) and the reason; an empty reason if it could. Go matches member
/// names to fields case-insensitively and stops at 10,000 levels of nesting.
std::pair<std::string, std::string>
go_decode_problem(const json& results, std::string_view body) {
  for (auto& [ip, entries] : results.items()) {
    if (entries.is_null())
      continue;
    if (auto depth = value_depth(entries); depth + 1 > podsim::go_max_nesting)
      return {ip, "nested " + std::to_string(depth + 1)
                    + " levels deep in /results (Go's decoder stops at "
                    + std::to_string(podsim::go_max_nesting) + ")"};
    if (!entries.is_array())
      return {ip, "its value is not an array"};
    for (auto& e : entries) {
      if (e.is_null())
        continue;
      if (!e.is_object())
        return {ip, "an entry is not an object"};
      for (auto& [key, value] : e.items()) {
        auto field = lowercase(key);
        bool text = field == "address" || field == "npname"
                    || field == "timestamp";
        bool integer = field == "port" || field == "connectionidx";
        if (value.is_null() || (!text && !integer))
          continue;
        if ((text && !value.is_string())
            || (integer && !value.is_number_integer()))
          return {ip, "an entry has \"" + key + "\": " + shown_value(value)
                        + ", which Go decodes into connTest's " + field
                        + " field and cannot"};
      }
    }
  }
  if (auto depth = nesting_depth(body); depth > podsim::go_max_nesting)
    return {"", "nested " + std::to_string(depth)
                  + " levels deep (Go's decoder stops at "
                  + std::to_string(podsim::go_max_nesting) + ")"};
  return {};
}


/// The completeness report against the lab's own count: `in_results[i]`
/// says whether fleet pod i is in /results (collected, as kube-burner sees
/// it). Every difference is an integrity problem naming pod or kind and the
/// numbers of both sides.
void check_completeness(scenario_report& r, const run_result& run,
                        const json& initiate,
                        const std::vector<bool>& in_results) {
  auto& c = r.completeness;
  c.status_before_stop = run.report_early_status;
  c.status = run.report_status;
  auto problem = [&](std::string pod, std::string kind, std::string what) {
    r.problems.push_back(
      {std::move(pod), std::move(kind), "completeness: " + std::move(what)});
  };

  // The truth, per pod, kind and netpol.
  std::map<std::string, netpol_truth> netpols;
  std::vector<pod_truth> pods;
  pods.reserve(run.fleet.size());
  std::map<fault, completeness_counts> truth_by_kind;
  for (size_t i = 0; i < run.fleet.size(); ++i) {
    auto& pod = run.fleet[i];
    json list;
    if (pod.accepted_check)
      list = json::parse(pod.check_body, nullptr, false);
    else if (initiate.is_object() && initiate.contains(pod.ip))
      list = initiate[pod.ip];
    auto expected = expected_tests(list);
    if (!expected) {
      problem(pod.ip, podsim::to_string(pod.kind),
              "the pod's connection list is not kube-burner's form; its "
              "tests are not counted");
      expected.emplace();
    }
    pods.push_back(count_pod(*expected, in_results[i], pod.accepted_check,
                             pod.results_body, netpols));
    truth_by_kind[pod.kind].add(pods.back().counts);
    c.truth.add(pods.back().counts);
  }
  c.truth_netpols = netpols.size();
  for (auto& [name, t] : netpols)
    c.truth_netpols_incomplete += t.missing + t.unknown > 0;
  for (auto kind : podsim::all_faults())
    if (auto i = truth_by_kind.find(kind); i != truth_by_kind.end())
      c.kinds.push_back({kind, i->second, {}});

  if (!run.have_results) {
    c.error = "the round did not finish: nothing to compare";
    return;
  }
  if (c.status_before_stop != 409)
    problem("", "",
            "GET /report?all=1 before /stop answered "
              + (c.status_before_stop == 0
                   ? std::string{"nothing"}
                   : "HTTP " + std::to_string(c.status_before_stop))
              + ", expected 409 (collection had not started)");
  if (c.status != 200) {
    c.error = "GET /report?all=1 after collection answered "
              + (c.status == 0 ? std::string{"nothing"}
                               : "HTTP " + std::to_string(c.status));
    problem("", "", c.error);
    return;
  }
  auto report = json::parse(run.report_body, nullptr, false);
  auto shape_error = [&]() -> std::string {
    if (!report.is_object())
      return "not a JSON object";
    auto totals = report.find("completeness");
    if (totals == report.end())
      return "no \"completeness\"";
    if (auto key = lacking(*totals, count_fields); !key.empty())
      return "\"completeness\" lacks " + key;
    for (auto key : {"pods_incomplete", "netpols_incomplete"})
      if (!is_count(*totals, key))
        return std::string{"\"completeness\" lacks "} + key;
    if (!is_count(report, "pods_total"))
      return "no \"pods_total\"";
    for (auto key : {"pods", "netpols"})
      if (!report.contains(key) || !report[key].is_array())
        return std::string{"no array \""} + key + "\"";
    for (auto& row : report["pods"]) {
      if (!row.is_object() || !row.contains("pod") || !row["pod"].is_string())
        return "a row of \"pods\" names no pod";
      if (auto key = lacking(row, count_fields); !key.empty())
        return "the row of pod " + row["pod"].dump() + " lacks " + key;
    }
    for (auto& row : report["netpols"]) {
      if (!row.is_object() || !row.contains("name")
          || !row["name"].is_string())
        return "a row of \"netpols\" has no name";
      if (auto key = lacking(row, netpol_fields); !key.empty())
        return "the row of netpol " + row["name"].dump() + " lacks " + key;
    }
    return "";
  }();
  if (!shape_error.empty()) {
    c.error = "GET /report?all=1: " + shape_error;
    problem("", "", c.error);
    return;
  }
  c.available = true;
  c.round = number(report, "round");
  c.phase = text_of(report, "phase");
  const auto& totals = report["completeness"];
  c.proxy = counts_of_row(totals);
  c.proxy.pods_incomplete = number(totals, "pods_incomplete");
  c.proxy_netpols_incomplete = number(totals, "netpols_incomplete");
  c.proxy_pods_total = number(report, "pods_total");
  c.proxy_pods_listed = report["pods"].size();
  c.proxy_netpols_listed = report["netpols"].size();

  if (c.phase != "collected")
    problem("", "", "the report's phase is \"" + c.phase
                      + "\" after collection, expected \"collected\"");
  if (c.proxy != c.truth)
    problem("", "", "totals differ: proxy " + figures(c.proxy, true)
                      + "; truth " + figures(c.truth, true));
  if (c.proxy_netpols_incomplete != c.truth_netpols_incomplete)
    problem("", "", "netpols_incomplete: proxy "
                      + std::to_string(c.proxy_netpols_incomplete)
                      + ", truth "
                      + std::to_string(c.truth_netpols_incomplete));
  // A pod with a problem: something missing, repeated, unexpected or
  // unknown. ?all=1 lists every such pod, and only those.
  auto has_problem = [](const completeness_counts& x) {
    return x.missing + x.duplicates + x.unexpected + x.unknown > 0;
  };
  uint64_t truth_with_problems = 0;
  for (auto& t : pods)
    truth_with_problems += has_problem(t.counts) ? 1 : 0;
  c.truth_pods_total = truth_with_problems;
  if (c.proxy_pods_total != c.proxy_pods_listed)
    problem("", "", "pods_total: " + std::to_string(c.proxy_pods_total)
                      + ", but /report?all=1 lists "
                      + std::to_string(c.proxy_pods_listed) + " pods");
  if (c.proxy_pods_listed < truth_with_problems)
    problem("", "", "/report?all=1 lists " + std::to_string(c.proxy_pods_listed)
                      + " pods; the truth has " + std::to_string(truth_with_problems)
                      + " with a problem");

  // Per pod: ?all=1 lists every pod with a problem (a complete pod may be
  // listed too: its row must then say so).
  std::unordered_map<std::string, const json*> rows;
  for (auto& row : report["pods"])
    if (!rows.emplace(row["pod"].get<std::string>(), &row).second)
      problem(row["pod"].get<std::string>(), "",
              "the pod is listed twice in /report?all=1");
  std::map<fault, completeness_counts> proxy_by_kind;
  for (size_t i = 0; i < run.fleet.size(); ++i) {
    auto& pod = run.fleet[i];
    auto kind = podsim::to_string(pod.kind);
    auto row = rows.find(pod.ip);
    if (row == rows.end()) {
      // Unlisted: complete, which the truth must agree with.
      if (has_problem(pods[i].counts)) {
        ++c.pods_differing;
        problem(pod.ip, kind, "not listed in /report?all=1, but the truth is "
                                + figures(pods[i].counts, false));
      } else {
        proxy_by_kind[pod.kind].add(pods[i].counts);
      }
      continue;
    }
    auto got = counts_of_row(*row->second);
    proxy_by_kind[pod.kind].add(got);
    const auto& want = pods[i];
    auto state = text_of(*row->second, "state");
    if (got != want.counts) {
      ++c.pods_differing;
      problem(pod.ip, kind, "proxy " + figures(got, false) + "; truth "
                              + figures(want.counts, false) + " ("
                              + (want.collected ? "in" : "not in")
                              + " /results, state " + state + ")");
    } else if ((state == "collected") != want.collected) {
      ++c.pods_differing;
      problem(pod.ip, kind, "state " + state + " in the report, but the pod "
                              + (want.collected ? "is" : "is not")
                              + " in /results");
    }
    rows.erase(row);
  }
  for (auto& [ip, row] : rows)
    problem(ip, "", "listed in /report?all=1 but not a pod of the fleet");
  for (auto& k : c.kinds) {
    k.proxy = proxy_by_kind[k.fault];
    if (k.proxy != k.truth)
      problem("", podsim::to_string(k.fault),
              podsim::to_string(k.fault) + " pods differ: proxy "
                + figures(k.proxy, true) + "; truth "
                + figures(k.truth, true));
  }

  // Per netpol: every listed one matches; every incomplete one is listed.
  std::set<std::string> listed;
  std::vector<std::string> differing;
  for (auto& row : report["netpols"]) {
    auto name = row["name"].get<std::string>();
    listed.insert(name);
    auto t = netpols.find(name);
    std::string why;
    if (t == netpols.end()) {
      if (number(row, "expected") + number(row, "reported")
            + number(row, "missing") + number(row, "unknown")
          > 0)
        why = "proxy " + netpol_figures(row) + "; no pod's list names it";
    } else {
      why = netpol_difference(row, t->second);
    }
    if (!why.empty())
      differing.push_back(name + ": " + why);
  }
  for (auto& [name, t] : netpols)
    if (t.missing + t.unknown > 0 && !listed.count(name))
      differing.push_back(name + ": incomplete (" + netpol_figures(t)
                          + ") but not listed");
  c.netpols_differing = differing.size();
  if (!differing.empty()) {
    std::string first;
    for (size_t i = 0; i < differing.size() && i < 3; ++i)
      first += (i ? "; " : "") + differing[i];
    problem("", "", std::to_string(differing.size())
                      + " netpols differ from the truth (" + first
                      + (differing.size() > 3 ? "; ..." : "") + ")");
  }
}

} // namespace

void kind_counts::add(const kind_counts& o) {
  pods += o.pods;
  delivered += o.delivered;
  unconfirmed += o.unconfirmed;
  failed += o.failed;
  collected += o.collected;
  collect_failed += o.collect_failed;
  entries_expected += o.entries_expected;
  entries_received += o.entries_received;
  delivery_attempts += o.delivery_attempts;
  collection_attempts += o.collection_attempts;
  duplicate_checks += o.duplicate_checks;
  in_results += o.in_results;
  intact += o.intact;
  tests += o.tests;
  entries_omitted += o.entries_omitted;
  entries_duplicated += o.entries_duplicated;
  entries_alien += o.entries_alien;
}

void completeness_counts::add(const completeness_counts& o) {
  expected += o.expected;
  reported += o.reported;
  missing += o.missing;
  duplicates += o.duplicates;
  unexpected += o.unexpected;
  unknown += o.unknown;
  pods_incomplete += o.pods_incomplete;
}

bool completeness_counts::operator==(const completeness_counts& o) const {
  return expected == o.expected && reported == o.reported
         && missing == o.missing && duplicates == o.duplicates
         && unexpected == o.unexpected && unknown == o.unknown
         && pods_incomplete == o.pods_incomplete;
}

bool completeness_report::matches() const {
  if (!available || proxy != truth
      || proxy_netpols_incomplete != truth_netpols_incomplete
      || netpols_differing != 0 || pods_differing != 0)
    return false;
  for (auto& k : kinds)
    if (k.proxy != k.truth)
      return false;
  return true;
}

bool scenario_report::ok() const {
  return error.empty() && finished && results_valid_json && problems.empty()
         && delivery.within && collection.within;
}

scenario_report analyse(const podsim::scenario& s, const std::string& file,
                        const run_result& run) {
  scenario_report r;
  r.scenario = s;
  r.file = file;
  r.error = run.error;
  r.finished = run.delivery_done && run.collection_done && run.have_results;
  r.wall_seconds = run.wall_seconds;
  r.proxy_exit = run.proxy_exit;
  r.proxy_log = run.proxy_log;
  static const json no_status = json::object();
  const json& status = run.status.is_object() ? run.status : no_status;
  r.calls = number(status, "calls");
  r.retries = number(status, "retries");
  r.worker_restarts = number(status, "worker_restarts");
  r.results_bytes = run.results_body.size();

  std::unordered_map<std::string, const json*> details;
  if (auto i = status.find("pod_details"); i != status.end() && i->is_array())
    for (auto& detail : *i)
      details.emplace(text_of(detail, "pod"), &detail);

  auto results = json::parse(run.results_body, nullptr, false);
  r.results_valid_json = run.have_results && !results.is_discarded()
                         && results.is_object();
  if (run.have_results && !r.results_valid_json)
    r.problems.push_back({"", "", "/results is not valid JSON: kube-burner "
                                  "would fail to decode it"});
  auto raw = raw_members(run.results_body);
  auto initiate = json::parse(run.initiate_body, nullptr, false);

  if (r.results_valid_json) {
    auto [pod, why] = go_decode_problem(results, run.results_body);
    if (!why.empty()) {
      std::string kind;
      for (auto& p : run.fleet)
        if (p.ip == pod)
          kind = podsim::to_string(p.kind);
      r.problems.push_back({pod, kind, "kube-burner could not decode "
                                       "/results: " + why});
    }
  }

  std::map<fault, kind_counts> by_kind;
  std::vector<double> healthy_delivered;
  std::vector<bool> in_results;
  in_results.reserve(run.fleet.size());
  for (auto& pod : run.fleet) {
    auto& c = by_kind[pod.kind];
    auto kind = podsim::to_string(pod.kind);
    ++c.pods;
    auto found = details.find(pod.ip);
    const json* detail = found == details.end() ? nullptr : found->second;
    if (detail) {
      auto delivery = text_of(*detail, "delivery");
      c.delivered += delivery == "delivered";
      c.unconfirmed += delivery == "unconfirmed";
      c.failed += delivery == "failed";
      auto state = text_of(*detail, "state");
      c.collected += state == "collected";
      c.collect_failed += state == "collect_failed";
      c.delivery_attempts += number(*detail, "delivery_attempts");
      if (pod.kind == fault::none && delivery == "delivered")
        healthy_delivered.push_back(
          seconds_of(*detail, "delivered_after_ms") / 1000.0);
      c.collection_attempts += number(*detail, "collection_attempts");
    }
    c.entries_expected += pod.results_entries;
    c.duplicate_checks += pod.duplicate_checks;
    c.tests += pod.tests;
    c.entries_omitted += pod.results_omitted;
    c.entries_duplicated += pod.results_duplicated;
    c.entries_alien += pod.results_alien;
    bool healthy = pod.kind == fault::none;
    r.healthy += healthy;
    auto bytes = raw.find(pod.ip);
    in_results.push_back(bytes != raw.end());
    if (detail && run.have_results
        && (text_of(*detail, "state") == "collected") != in_results.back())
      r.problems.push_back(
        {pod.ip, kind,
         "state " + text_of(*detail, "state") + " in /status, but the pod "
           + (in_results.back() ? "is" : "is not") + " in /results"});
    if (bytes != raw.end()) {
      ++c.in_results;
      if (bytes->second == pod.results_body) {
        ++c.intact;
        r.healthy_intact += healthy;
      } else {
        r.problems.push_back(
          {pod.ip, kind,
           "results altered: /results holds "
             + std::to_string(bytes->second.size())
             + " bytes that differ from the pod's "
             + std::to_string(pod.results_body.size())});
      }
      if (r.results_valid_json)
        if (auto entries = results.find(pod.ip);
            entries != results.end() && entries->is_array())
          c.entries_received += entries->size();
      raw.erase(bytes);
    } else if (healthy && run.have_results) {
      r.problems.push_back(
        {pod.ip, kind, "results missing (" + why_missing(detail) + ")"});
    }
    if (pod.accepted_check && !initiate.is_discarded()) {
      auto taken = json::parse(pod.check_body, nullptr, false);
      if (taken.is_discarded() || !initiate.contains(pod.ip)
          || taken != initiate[pod.ip])
        r.problems.push_back(
          {pod.ip, kind, "the connection list the pod took differs from "
                         "the one in /initiate"});
    }
    // A client pod that takes /check twice tests (and may report) twice.
    if (pod.duplicate_checks > 0)
      r.problems.push_back(
        {pod.ip, kind,
         "got /check " + std::to_string(pod.duplicate_checks)
           + " more time(s) after accepting it"});
  }
  for (auto& [ip, bytes] : raw)
    r.problems.push_back({ip, "", "in /results but not a pod of the fleet"});
  check_completeness(r, run, initiate, in_results);

  if (!healthy_delivered.empty()) {
    std::sort(healthy_delivered.begin(), healthy_delivered.end());
    auto rank = [&](double q) {
      auto i = static_cast<size_t>(
        std::ceil(q * static_cast<double>(healthy_delivered.size())));
      return healthy_delivered[std::max<size_t>(i, 1) - 1];
    };
    r.healthy_delivered_p50 = rank(0.5);
    r.healthy_delivered_p99 = rank(0.99);
    r.healthy_delivered_max = healthy_delivered.back();
  }

  for (auto kind : podsim::all_faults())
    if (auto i = by_kind.find(kind); i != by_kind.end()) {
      r.kinds.emplace_back(kind, i->second);
      r.total.add(i->second);
    }

  r.delivery.seconds = seconds_of(status, "delivery_seconds");
  r.delivery.calls = r.total.delivery_attempts;
  r.delivery.bound = phase_bound(s.proxy, r.delivery.calls);
  r.delivery.within = run.delivery_done
                      && r.delivery.seconds <= r.delivery.bound.phase_seconds
                                                 + bound_slack_seconds;
  r.collection.seconds = seconds_of(status, "collection_seconds");
  r.collection.calls = r.total.collection_attempts;
  r.collection.bound = phase_bound(s.proxy, r.collection.calls);
  r.collection.within = run.collection_done
                        && r.collection.seconds
                             <= r.collection.bound.phase_seconds
                                  + bound_slack_seconds;
  return r;
}

std::string markdown_section(const scenario_report& r) {
  const auto& s = r.scenario;
  std::ostringstream md;
  md << "## " << s.name << "\n\n";
  if (!s.description.empty())
    md << s.description << "\n\n";
  md << "- fleet: " << grouped(s.pods) << " pods (" << podsim::to_string(s.mode)
     << ", latency " << podsim::format_duration(s.latency) << " + 0.."
     << podsim::format_duration(s.jitter) << ", seed " << s.seed << ", "
     << s.connections_per_pod << " connections each); "
     << fault_summary(s) << "\n";
  md << "- proxy: " << proxy_summary(s.proxy) << "\n";
  md << "- scenario file: `" << r.file << "`\n\n";

  md << "| fault | pods | delivered | unconfirmed | failed | collected | "
        "collect_failed | entries expected | entries received | attempts "
        "(deliver / collect) | duplicate /check |\n";
  md << "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  auto row = [&](const std::string& name, const kind_counts& c) {
    md << "| " << name << " | " << grouped(c.pods) << " | "
       << grouped(c.delivered) << " | " << grouped(c.unconfirmed) << " | "
       << grouped(c.failed) << " | " << grouped(c.collected) << " | "
       << grouped(c.collect_failed) << " | " << grouped(c.entries_expected)
       << " | " << grouped(c.entries_received) << " | "
       << grouped(c.delivery_attempts) << " / "
       << grouped(c.collection_attempts) << " | "
       << grouped(c.duplicate_checks) << " |\n";
  };
  for (auto& [kind, counts] : r.kinds)
    row(podsim::to_string(kind), counts);
  row("**all**", r.total);
  md << "\n";

  const auto& c = r.completeness;
  md << "Completeness of the tests, each cell the proxy's figure "
        "(`/report?all=1`) / the lab's own count (the pods' lists against "
        "the bodies they served):\n\n";
  md << "| fault | expected | reported | missing | duplicates | unexpected | "
        "unknown | pods incomplete |\n";
  md << "|---|--:|--:|--:|--:|--:|--:|--:|\n";
  auto cell = [&](uint64_t proxy, uint64_t truth) {
    std::string text = (c.available ? grouped(proxy) : std::string{"-"})
                       + " / " + grouped(truth);
    return c.available && proxy != truth ? "**" + text + "**" : text;
  };
  auto completeness_row = [&](const std::string& name,
                              const completeness_counts& proxy,
                              const completeness_counts& truth) {
    md << "| " << name << " | " << cell(proxy.expected, truth.expected)
       << " | " << cell(proxy.reported, truth.reported) << " | "
       << cell(proxy.missing, truth.missing) << " | "
       << cell(proxy.duplicates, truth.duplicates) << " | "
       << cell(proxy.unexpected, truth.unexpected) << " | "
       << cell(proxy.unknown, truth.unknown) << " | "
       << cell(proxy.pods_incomplete, truth.pods_incomplete) << " |\n";
  };
  for (auto& k : c.kinds)
    completeness_row(podsim::to_string(k.fault), k.proxy, k.truth);
  completeness_row("**all**", c.proxy, c.truth);
  md << "\n";
  if (c.available)
    md << "- completeness report: round " << c.round << ", phase " << c.phase
       << "; " << grouped(c.proxy_pods_listed) << " pods listed of "
       << grouped(c.proxy_pods_total) << "; netpols incomplete "
       << cell(c.proxy_netpols_incomplete, c.truth_netpols_incomplete)
       << " of " << grouped(c.truth_netpols) << ", "
       << grouped(c.proxy_netpols_listed) << " listed, "
       << grouped(c.netpols_differing) << " differing; pods differing "
       << grouped(c.pods_differing) << "; before /stop it answered "
       << (c.status_before_stop ? "HTTP " + std::to_string(c.status_before_stop)
                                : std::string{"nothing"})
       << "; " << (c.matches() ? "matches the truth" : "**differs**")
       << "\n\n";
  else
    md << "- completeness report unavailable"
       << (c.error.empty() ? std::string{} : ": " + c.error) << "\n\n";

  md << "| phase | seconds | pod calls | one pod's bound | phase bound | "
        "within bound |\n";
  md << "|---|--:|--:|--:|--:|---|\n";
  auto phase_row = [&](const char* name, const phase_report& p) {
    md << "| " << name << " | " << fixed(p.seconds) << " | "
       << grouped(p.calls) << " | " << fixed(p.bound.pod_seconds, 1)
       << " s | " << fixed(p.bound.phase_seconds, 1) << " s | "
       << (p.within ? "yes" : "**no**") << " |\n";
  };
  phase_row("delivery", r.delivery);
  phase_row("collection", r.collection);
  md << "\n";

  md << "- pod calls " << grouped(r.calls) << " (" << grouped(r.retries)
     << " retries), worker restarts " << r.worker_restarts << "; /results "
     << megabytes(r.results_bytes)
     << (r.results_valid_json ? ", valid JSON" : ", **not valid JSON**")
     << "\n";
  md << "- healthy pods with their exact results in /results: "
     << grouped(r.healthy_intact) << " / " << grouped(r.healthy) << "\n";
  md << "- healthy pods got their list (so started testing) "
     << fixed(r.healthy_delivered_p50) << " s after /initiate at the median, "
     << fixed(r.healthy_delivered_p99) << " s at p99, "
     << fixed(r.healthy_delivered_max) << " s at most\n";
  md << "- wall time " << fixed(r.wall_seconds, 1) << " s; proxy "
     << r.proxy_exit << "\n";
  if (!r.chart.empty())
    md << "- pods by state over time: [" << r.chart << "](" << r.chart
       << ")\n";
  md << "- verdict: " << verdict(r) << "\n";
  if (!r.problems.empty()) {
    md << "\nProblems (" << r.problems.size() << "):\n\n";
    size_t shown = 0;
    for (auto& p : r.problems) {
      if (++shown > 20) {
        md << "- ... and " << r.problems.size() - 20
           << " more (summary.json lists all)\n";
        break;
      }
      auto where = !p.pod.empty() ? p.pod
                   : p.what.rfind("completeness: ", 0) == 0
                     ? std::string{"/report?all=1"}
                     : std::string{"/results"};
      md << "- " << where
         << (p.kind.empty() ? "" : " (" + p.kind + ")") << ": " << p.what
         << "\n";
    }
  }
  md << "\n";
  return md.str();
}

std::string markdown_overview(const std::vector<scenario_report>& all) {
  std::ostringstream md;
  md << "| scenario | pods | workers | connect / request | retries | "
        "delivered | unconfirmed | failed | collected | collect_failed | "
        "delivery s | collection s | within bound | healthy intact | "
        "healthy list p99 s | wall s | verdict |\n";
  md << "|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|---|"
        "\n";
  for (auto& r : all) {
    const auto& p = r.scenario.proxy;
    md << "| " << r.scenario.name << " | " << grouped(r.scenario.pods) << " | "
       << p.workers << " | " << podsim::format_duration(p.connect_timeout)
       << " / " << podsim::format_duration(p.request_timeout) << " | "
       << p.retries << " | " << grouped(r.total.delivered) << " | "
       << grouped(r.total.unconfirmed) << " | " << grouped(r.total.failed)
       << " | " << grouped(r.total.collected) << " | "
       << grouped(r.total.collect_failed) << " | "
       << fixed(r.delivery.seconds) << " | " << fixed(r.collection.seconds)
       << " | "
       << (r.delivery.within && r.collection.within ? "yes" : "**no**")
       << " | " << grouped(r.healthy_intact) << " / " << grouped(r.healthy)
       << " | " << fixed(r.healthy_delivered_p99) << " | "
       << fixed(r.wall_seconds, 1) << " | " << verdict(r) << " |\n";
  }
  return md.str();
}

json summary_json(const std::vector<scenario_report>& all) {
  json scenarios = json::array();
  bool ok = true;
  for (auto& r : all) {
    ok = ok && r.ok();
    const auto& s = r.scenario;
    json faults = json::array();
    for (auto& group : s.faults) {
      json g{{"kind", podsim::to_string(group.kind)}, {"pods", group.pods}};
      if (group.kind == fault::flaky)
        g["failures"] = group.failures;
      if (group.kind == fault::slow)
        g["delay_ms"] = ms(group.delay);
      if (group.kind == fault::trickle_headers
          || group.kind == fault::slow_answer)
        g["interval_ms"] = ms(group.interval);
      if (group.kind == fault::partial || group.kind == fault::duplicate)
        g["test_fraction"] = group.test_fraction;
      if (group.latency)
        g["latency_ms"] = ms(*group.latency);
      if (group.jitter)
        g["jitter_ms"] = ms(*group.jitter);
      faults.push_back(std::move(g));
    }
    json kinds = json::object();
    for (auto& [kind, counts] : r.kinds)
      kinds[podsim::to_string(kind)] = counts_json(counts);
    const auto& c = r.completeness;
    json completeness_kinds = json::object();
    for (auto& k : c.kinds)
      completeness_kinds[podsim::to_string(k.fault)] = {
        {"proxy", c.available ? completeness_json(k.proxy) : json(nullptr)},
        {"truth", completeness_json(k.truth)},
        {"matches", c.available && k.proxy == k.truth}};
    auto proxy_totals = completeness_json(c.proxy);
    proxy_totals["netpols_incomplete"] = c.proxy_netpols_incomplete;
    proxy_totals["pods_total"] = c.proxy_pods_total;
    auto truth_totals = completeness_json(c.truth);
    truth_totals["netpols_incomplete"] = c.truth_netpols_incomplete;
    truth_totals["pods_total"] = c.truth_pods_total;
    json completeness{
      {"available", c.available},
      {"error", c.error},
      {"status_before_stop", c.status_before_stop},
      {"status", c.status},
      {"round", c.round},
      {"phase", c.phase},
      {"matches", c.matches()},
      {"proxy", c.available ? proxy_totals : json(nullptr)},
      {"truth", truth_totals},
      {"kinds", std::move(completeness_kinds)},
      {"netpols",
       {{"truth", c.truth_netpols},
        {"listed", c.proxy_netpols_listed},
        {"differing", c.netpols_differing}}},
      {"pods", {{"listed", c.proxy_pods_listed}, {"differing", c.pods_differing}}},
    };
    json problems = json::array();
    json healthy_missing = json::array();
    json altered = json::array();
    for (auto& p : r.problems) {
      problems.push_back({{"pod", p.pod}, {"kind", p.kind}, {"what", p.what}});
      if (p.kind == "none" && p.what.rfind("results missing", 0) == 0)
        healthy_missing.push_back(p.pod);
      if (p.what.rfind("results altered", 0) == 0)
        altered.push_back(p.pod);
    }
    const auto& p = s.proxy;
    scenarios.push_back({
      {"name", s.name},
      {"file", r.file},
      {"ok", r.ok()},
      {"error", r.error},
      {"finished", r.finished},
      {"pods", s.pods},
      {"mode", podsim::to_string(s.mode)},
      {"seed", s.seed},
      {"latency_ms", ms(s.latency)},
      {"jitter_ms", ms(s.jitter)},
      {"connections_per_pod", s.connections_per_pod},
      {"faults", std::move(faults)},
      {"proxy",
       {{"workers", p.workers},
        {"connect_timeout_ms", ms(p.connect_timeout)},
        {"request_timeout_ms", ms(p.request_timeout)},
        {"retries", p.retries},
        {"backoff_base_ms", ms(p.backoff_base)},
        {"backoff_cap_ms", ms(p.backoff_cap)},
        {"extra_args", p.extra_args}}},
      {"kinds", std::move(kinds)},
      {"total", counts_json(r.total)},
      {"completeness", std::move(completeness)},
      {"delivery", phase_json(r.delivery)},
      {"collection", phase_json(r.collection)},
      {"bound_slack_seconds", bound_slack_seconds},
      {"calls", r.calls},
      {"retries", r.retries},
      {"worker_restarts", r.worker_restarts},
      {"results_bytes", r.results_bytes},
      {"results_valid_json", r.results_valid_json},
      {"healthy", r.healthy},
      {"healthy_intact", r.healthy_intact},
      {"healthy_delivered_seconds",
       {{"p50", r.healthy_delivered_p50},
        {"p99", r.healthy_delivered_p99},
        {"max", r.healthy_delivered_max}}},
      {"healthy_missing", std::move(healthy_missing)},
      {"altered", std::move(altered)},
      {"problems", std::move(problems)},
      {"wall_seconds", r.wall_seconds},
      {"proxy_exit", r.proxy_exit},
      {"chart", r.chart},
    });
  }
  return json{{"ok", ok}, {"scenarios", std::move(scenarios)}};
}

std::string samples_csv(const std::vector<sample>& samples) {
  std::string out = "seconds,phase";
  for (size_t i = 0; i < pod_state_count; ++i)
    out += std::string{","} + to_string(static_cast<pod_state>(i));
  out += ",waiting_retry,calls,retries\n";
  for (auto& x : samples) {
    out += fixed(x.seconds, 3) + "," + x.phase;
    for (auto n : x.states)
      out += "," + std::to_string(n);
    out += "," + std::to_string(x.waiting_retry) + ","
           + std::to_string(x.calls) + "," + std::to_string(x.retries) + "\n";
  }
  return out;
}

} // namespace netpol::lab
