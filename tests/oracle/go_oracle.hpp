// The Go oracle (tests/oracle/kube_burner_decode.go) as a subprocess, and
// the comparison of its verdict with netpol::validate_results_body's. Used
// by the results_go_oracle test and by the fuzz_results_body target.
#pragma once

#include "actors/results_body.hpp"
#include "oracle_process.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>


namespace netpol::oracle {

/// A visited entry, copied out of the visitor's views.
struct entry {
  uint32_t index = 0;
  bool is_null = false;
  bool has_address = false, has_npname = false, has_port = false,
       has_connectionidx = false, has_timestamp = false;
  std::string address, npname, timestamp;
  int32_t port = 0;
  int64_t connectionidx = 0;
  int64_t timestamp_seconds = 0;
  uint32_t timestamp_nanos = 0;
};

/// What one side made of a body.
struct verdict {
  bool accept = false;
  std::string error;           // on reject
  std::vector<entry> entries;  // on accept
};

/// The C++ side: validate_results_body with a visitor.
inline verdict scan(std::string_view body) {
  verdict out;
  std::vector<entry> seen;
  auto check = validate_results_body(body, [&](const results_entry& e) {
    entry x;
    x.index = e.index;
    x.is_null = e.is_null;
    x.has_address = e.has_address;
    x.has_npname = e.has_npname;
    x.has_port = e.has_port;
    x.has_connectionidx = e.has_connectionidx;
    x.has_timestamp = e.has_timestamp;
    x.address = std::string{e.address};
    x.npname = std::string{e.npname};
    x.timestamp = std::string{e.timestamp};
    x.port = e.port;
    x.connectionidx = e.connectionidx;
    x.timestamp_seconds = e.timestamp_seconds;
    x.timestamp_nanos = e.timestamp_nanos;
    seen.push_back(std::move(x));
  });
  out.accept = check.ok;
  if (check.ok) {
    out.entries = std::move(seen);
    if (out.entries.size() != check.entries)
      out.error = "visited " + std::to_string(out.entries.size())
                  + " entries, counted " + std::to_string(check.entries);
  } else {
    out.error = check.error;
  }
  return out;
}

/// The oracle process in --serve mode (oracle_process.hpp).
class process {
public:
  /// Starts `path --serve`; false (with `error`) if it cannot.
  bool start(const std::string& path) {
    bool ok = child_.start(path);
    error = child_.error;
    return ok;
  }

  /// Asks the oracle about `body`; nullopt (with `error`) if it failed.
  std::optional<verdict> decode(std::string_view body) {
    unsigned char header[4];
    put_length(header, static_cast<uint32_t>(body.size()));
    if (!child_.write_all(header, 4)
        || !child_.write_all(body.data(), body.size()))
      return failed_verdict("cannot write to the oracle");
    unsigned char answer[5];
    if (!child_.read_all(answer, 5))
      return failed_verdict("the oracle did not answer (it died?)");
    std::string payload(get_length(answer + 1), '\0');
    if (!child_.read_all(payload.data(), payload.size()))
      return failed_verdict("the oracle's answer was cut short");
    verdict out;
    out.accept = answer[0] == 1;
    if (!out.accept) {
      out.error = std::move(payload);
      return out;
    }
    auto doc = nlohmann::json::parse(payload, nullptr, false);
    if (!doc.is_array())
      return failed_verdict("the oracle's entries are not a JSON array");
    uint32_t index = 0;
    for (auto& e : doc)
      out.entries.push_back(entry_of(e, index++));
    return out;
  }

  std::string error;

private:
  static entry entry_of(const nlohmann::json& e, uint32_t index) {
    entry x;
    x.index = index;
    x.is_null = e.value("is_null", false);
    x.has_address = e.value("has_address", false);
    x.has_npname = e.value("has_npname", false);
    x.has_port = e.value("has_port", false);
    x.has_connectionidx = e.value("has_connectionidx", false);
    x.has_timestamp = e.value("has_timestamp", false);
    x.address = e.value("address", "");
    x.npname = e.value("npname", "");
    x.timestamp = e.value("timestamp", "");
    x.port = e.value("port", int32_t{0});
    x.connectionidx = e.value("connectionidx", int64_t{0});
    x.timestamp_seconds = e.value("timestamp_seconds", int64_t{0});
    x.timestamp_nanos = e.value("timestamp_nanos", uint32_t{0});
    return x;
  }

  static void put_length(unsigned char* p, uint32_t n) {
    p[0] = static_cast<unsigned char>(n >> 24);
    p[1] = static_cast<unsigned char>(n >> 16);
    p[2] = static_cast<unsigned char>(n >> 8);
    p[3] = static_cast<unsigned char>(n);
  }

  static uint32_t get_length(const unsigned char* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16)
           | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  }

  std::optional<verdict> failed_verdict(const char* what) {
    child_.failure(what);
    error = child_.error;
    return std::nullopt;
  }

  subprocess child_;
};

/// Empty if the two verdicts agree: the same accept/reject, and on accept
/// the same entries, field by field. Otherwise what differs.
inline std::string compare(const verdict& go, const verdict& mine) {
  if (go.accept != mine.accept)
    return go.accept ? "Go accepts, the scanner refuses: " + mine.error
                     : "Go refuses (" + go.error + "), the scanner accepts";
  if (!go.accept)
    return {};
  if (!mine.error.empty())
    return mine.error;
  if (go.entries.size() != mine.entries.size())
    return "Go decodes " + std::to_string(go.entries.size())
           + " entries, the scanner visits "
           + std::to_string(mine.entries.size());
  auto quote = [](const std::string& s) {
    return nlohmann::json(s).dump(-1, ' ', true,
                                  nlohmann::json::error_handler_t::replace);
  };
  for (size_t i = 0; i < go.entries.size(); ++i) {
    auto& g = go.entries[i];
    auto& m = mine.entries[i];
    std::string at = "entry " + std::to_string(i) + ": ";
    if (m.index != i)
      return at + "visited with index " + std::to_string(m.index);
    if (g.is_null != m.is_null)
      return at + "is_null: Go " + std::to_string(g.is_null) + ", scanner "
             + std::to_string(m.is_null);
    auto flag = [&](const char* name, bool a, bool b) {
      return a == b ? std::string{}
                    : at + name + ": Go " + std::to_string(a) + ", scanner "
                        + std::to_string(b);
    };
    for (auto diff :
         {flag("has_address", g.has_address, m.has_address),
          flag("has_npname", g.has_npname, m.has_npname),
          flag("has_port", g.has_port, m.has_port),
          flag("has_connectionidx", g.has_connectionidx, m.has_connectionidx),
          flag("has_timestamp", g.has_timestamp, m.has_timestamp)})
      if (!diff.empty())
        return diff;
    // Unset fields are Go's zero values; the visitor's defaults too.
    if (g.address != m.address)
      return at + "address: Go " + quote(g.address) + ", scanner "
             + quote(m.address);
    if (g.npname != m.npname)
      return at + "npname: Go " + quote(g.npname) + ", scanner "
             + quote(m.npname);
    if (g.port != m.port)
      return at + "port: Go " + std::to_string(g.port) + ", scanner "
             + std::to_string(m.port);
    if (g.connectionidx != m.connectionidx)
      return at + "connectionidx: Go " + std::to_string(g.connectionidx)
             + ", scanner " + std::to_string(m.connectionidx);
    if (g.has_timestamp
        && (g.timestamp != m.timestamp
            || g.timestamp_seconds != m.timestamp_seconds
            || g.timestamp_nanos != m.timestamp_nanos))
      return at + "timestamp: Go " + quote(g.timestamp) + " = "
             + std::to_string(g.timestamp_seconds) + "s "
             + std::to_string(g.timestamp_nanos) + "ns, scanner "
             + quote(m.timestamp) + " = "
             + std::to_string(m.timestamp_seconds) + "s "
             + std::to_string(m.timestamp_nanos) + "ns";
  }
  return {};
}

} // namespace netpol::oracle
