// The client's Go oracle (tests/oracle/netpolvalidator_codec.go) as a
// subprocess in --serve mode, and the comparison of its /check verdict with
// netpol::client::parse_check_body's. Used by the client_go_oracle test
// (tests/client/go_codec_oracle.cpp) and by the fuzz_check_body target.
//
// parse_check_body may refuse what Go takes only for the reasons it
// documents: a port outside 1-65535 or an address that is neither an IP
// address nor a host name (anywhere in Go's decoded list), or a body that
// is not UTF-8.
#pragma once

#include "client/check_list.hpp"
#include "oracle_process.hpp"

#include <charconv>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>


namespace netpol::client_oracle {

using client::check_list;
using client::check_parse;
using client::probe_test;

/// netpolvalidator-codec --serve (oracle_process.hpp), frames as its
/// header says.
class codec {
public:
  struct reply {
    bool ok = false;     // status byte 1
    std::string payload; // the report, the encoded body, or Go's error
  };

  /// Starts `path --serve`; false (with `error`) if it cannot.
  bool start(const std::string& path) {
    bool ok = child_.start(path);
    error = child_.error;
    return ok;
  }

  /// One request of `kind` ('D' decode, 'E' encode); nullopt if the oracle
  /// failed (then `error` says how).
  std::optional<reply> ask(char kind, std::string_view payload) {
    char header[5];
    header[0] = kind;
    put_u32(header + 1, static_cast<uint32_t>(payload.size()));
    if (!child_.write_all(header, 5)
        || !child_.write_all(payload.data(), payload.size())
        || !child_.read_all(header, 5))
      return died("the oracle did not answer");
    reply out;
    out.ok = header[0] == 1;
    auto p = reinterpret_cast<unsigned char*>(header + 1);
    out.payload.resize((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16)
                       | (uint32_t{p[2]} << 8) | uint32_t{p[3]});
    if (!child_.read_all(out.payload.data(), out.payload.size()))
      return died("the oracle's answer was cut short");
    return out;
  }

  static void put_u32(char* p, uint32_t n) {
    for (int i = 3; i >= 0; --i, n >>= 8)
      p[i] = static_cast<char>(n & 0xFF);
  }

  std::string error;

private:
  std::nullopt_t died(const char* what) {
    child_.failure(what);
    error = child_.error;
    return std::nullopt;
  }

  oracle::subprocess child_;
};

/// `text` with bytes outside printable ASCII as \xNN, cut when long.
inline std::string printable(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text.substr(0, 400)) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  if (text.size() > 400)
    out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

/// What Go made of a /check body.
struct go_decode {
  bool accept = false;
  std::string error;
  size_t connections = 0;
  std::vector<probe_test> tests; // port here only when it fits; see ports
  std::vector<int64_t> test_ports;
  std::vector<std::string> addresses; // of every connection
  std::vector<int64_t> ports;         // of every connection
};

/// Reads the oracle's decodeReport as Go's json.Marshal writes it: the
/// fields in order, no spaces, lists never null. A reader of that shape
/// alone: nlohmann's DOM of a report of 500,000 tests (a 4 KiB body) took
/// 10 s under the fuzz build's instrumentation.
class report_reader {
public:
  explicit report_reader(std::string_view text) : s_(text) {}

  bool read(go_decode& out) {
    int64_t connections = 0;
    if (!token("{\"connections\":") || !integer(connections)
        || connections < 0 || !token(",\"tests\":"))
      return false;
    out.connections = static_cast<size_t>(connections);
    return list([&] { return test(out); }) && token(",\"addresses\":")
           && list([&] {
                return string(out.addresses.emplace_back());
              })
           && token(",\"ports\":")
           && list([&] { return integer(out.ports.emplace_back()); })
           && token("}") && i_ == s_.size();
  }

private:
  bool test(go_decode& out) {
    probe_test t;
    int64_t port = 0;
    if (!token("{\"address\":") || !string(t.address) || !token(",\"port\":")
        || !integer(port) || !token(",\"connectionidx\":")
        || !integer(t.connection_index) || !token(",\"netpol\":")
        || !string(t.netpol) || !token("}"))
      return false;
    t.port = static_cast<uint16_t>(port); // compared with test_ports too
    out.tests.push_back(std::move(t));
    out.test_ports.push_back(port);
    return true;
  }

  /// `[` items separated by `,` `]`.
  template <class Item>
  bool list(Item item) {
    if (!token("["))
      return false;
    if (token("]"))
      return true;
    do {
      if (!item())
        return false;
    } while (token(","));
    return token("]");
  }

  bool token(std::string_view t) {
    if (s_.substr(i_, t.size()) != t)
      return false;
    i_ += t.size();
    return true;
  }

  bool integer(int64_t& out) {
    auto end = s_.data() + s_.size();
    auto [next, ec] = std::from_chars(s_.data() + i_, end, out);
    if (ec != std::errc{})
      return false;
    i_ = static_cast<size_t>(next - s_.data());
    return true;
  }

  bool string(std::string& out) {
    if (!token("\""))
      return false;
    while (i_ < s_.size()) {
      auto run = s_.find_first_of("\"\\", i_);
      if (run == std::string_view::npos)
        return false;
      out.append(s_.substr(i_, run - i_));
      i_ = run + 1;
      if (s_[run] == '"')
        return true;
      if (!escape(out))
        return false;
    }
    return false;
  }

  /// The escape after a backslash; Go writes a \u escape (four hex digits) for the BMP only.
  bool escape(std::string& out) {
    if (i_ >= s_.size())
      return false;
    char c = s_[i_++];
    static constexpr std::string_view from = "\"\\/bfnrt", to = "\"\\/\b\f\n\r\t";
    if (auto k = from.find(c); k != std::string_view::npos) {
      out += to[k];
      return true;
    }
    unsigned cp = 0;
    if (c != 'u' || i_ + 4 > s_.size())
      return false;
    auto [next, ec] = std::from_chars(s_.data() + i_, s_.data() + i_ + 4, cp, 16);
    if (ec != std::errc{} || next != s_.data() + i_ + 4
        || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i_ += 4;
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

/// Go's verdict on `body`; nullopt if the oracle failed (`go.error` says).
inline std::optional<go_decode> decode(codec& go, std::string_view body) {
  auto answer = go.ask('D', body);
  if (!answer)
    return std::nullopt;
  go_decode out;
  out.accept = answer->ok;
  if (!answer->ok) {
    out.error = std::move(answer->payload);
    return out;
  }
  if (!report_reader{answer->payload}.read(out)) {
    go.error = "the oracle's report is not a decodeReport: "
               + printable(answer->payload);
    return std::nullopt;
  }
  return out;
}

/// UTF-8 as Go's utf8.Valid reads it: no overlongs, surrogates or values
/// beyond U+10FFFF.
inline bool valid_utf8(std::string_view text) {
  auto p = reinterpret_cast<const unsigned char*>(text.data());
  auto end = p + text.size();
  while (p < end) {
    unsigned char c = *p;
    size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2
                            : c >= 0xE0 && c <= 0xEF ? 3
                            : c >= 0xF0 && c <= 0xF4 ? 4
                                                     : 0;
    if (n == 0 || static_cast<size_t>(end - p) < n)
      return false;
    unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    for (size_t i = 1; i < n; ++i) {
      if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xBF))
        return false;
    }
    p += n;
  }
  return true;
}

/// A port or address in Go's list that parse_check_body refuses, or empty.
inline std::string untestable_value(const go_decode& go) {
  for (auto port : go.ports)
    if (port < 1 || port > 65535)
      return "port " + std::to_string(port);
  for (auto& address : go.addresses)
    if (!client::is_ip_literal(address) && !client::is_host_name(address))
      return "address \"" + printable(address) + "\"";
  return {};
}

/// Why we may refuse a body Go takes (parse_check_body's documented
/// strictness), or empty if we may not.
inline std::string stricter_reason(const go_decode& go, std::string_view body) {
  auto value = untestable_value(go);
  if (!value.empty())
    return value;
  if (!valid_utf8(body))
    return "not UTF-8";
  return {};
}

/// True for parse_check_body's refusal of a value it read in full
/// ("connection N: port ..." or "connection N: address ..."), as opposed to
/// a refusal while decoding.
inline bool refused_a_value(std::string_view error) {
  if (error.rfind("connection ", 0) != 0)
    return false;
  auto colon = error.find(": ");
  if (colon == std::string_view::npos)
    return false;
  auto rest = error.substr(colon + 2);
  return rest.rfind("port ", 0) == 0 || rest.rfind("address ", 0) == 0;
}

enum class outcome { accepted, refused, stricter, differs };

inline const char* name_of(outcome x) {
  switch (x) {
    case outcome::accepted:
      return "accept";
    case outcome::refused:
      return "reject";
    case outcome::stricter:
      return "stricter";
    default:
      return "differs";
  }
}

/// Where two accepted lists differ, or empty.
inline std::string list_difference(const go_decode& go, const check_list& mine) {
  if (go.connections != mine.connections)
    return "Go has " + std::to_string(go.connections) + " connections, we "
           + std::to_string(mine.connections);
  if (go.tests.size() != mine.tests.size())
    return "Go has " + std::to_string(go.tests.size()) + " tests, we "
           + std::to_string(mine.tests.size());
  for (size_t i = 0; i < go.tests.size(); ++i) {
    auto& g = go.tests[i];
    auto& m = mine.tests[i];
    if (!(g == m) || go.test_ports[i] != m.port)
      return "test " + std::to_string(i) + ": Go {" + printable(g.address)
             + " " + std::to_string(go.test_ports[i]) + " "
             + std::to_string(g.connection_index) + " " + printable(g.netpol)
             + "}, we {" + printable(m.address) + " "
             + std::to_string(m.port) + " "
             + std::to_string(m.connection_index) + " "
             + printable(m.netpol) + "}";
  }
  return {};
}

/// Go's and our verdicts on `body` compared; `why` says what differs (or
/// why we are stricter).
inline outcome compare(const go_decode& go, const check_parse& mine,
                       std::string_view body, std::string& why) {
  if (!go.accept) {
    if (!mine.list)
      return outcome::refused;
    why = "Go refuses (" + go.error + "), we accept";
    return outcome::differs;
  }
  if (!mine.list) {
    why = stricter_reason(go, body);
    // A UTF-8 body with an untestable value must be refused for that
    // value, after decoding it as Go does: else a decoding bug hides here.
    if (!why.empty()
        && (!valid_utf8(body) || refused_a_value(mine.error)))
      return outcome::stricter;
    why = "Go accepts, we refuse: " + mine.error
          + (why.empty() ? "" : " (Go's list has " + why + ")");
    return outcome::differs;
  }
  // We took every value; if Go read one we would refuse, we read others.
  why = untestable_value(go);
  if (!why.empty()) {
    why = "we accept, yet Go's list has " + why;
    return outcome::differs;
  }
  why = list_difference(go, *mine.list);
  return why.empty() ? outcome::accepted : outcome::differs;
}

} // namespace netpol::client_oracle
