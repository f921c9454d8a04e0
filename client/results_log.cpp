#include "client/results_log.hpp"

#include <ctime>

namespace netpol::client {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

/// Length of the valid UTF-8 sequence at `p` (Go's utf8.DecodeRune rules:
/// no overlongs, no surrogates, at most U+10FFFF), or 0 when invalid.
size_t utf8_sequence(const unsigned char* p, const unsigned char* end) {
  auto c = *p;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else
    return 0;
  if (static_cast<size_t>(end - p) < n || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < n; ++i)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return 0;
  return n;
}

void append_digits(std::string& out, long value, int width) {
  char buffer[12];
  for (int i = width - 1; i >= 0; --i) {
    buffer[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buffer, static_cast<size_t>(width));
}

} // namespace

void append_go_json_string(std::string& out, std::string_view text) {
  out += '"';
  auto p = reinterpret_cast<const unsigned char*>(text.data());
  auto end = p + text.size();
  while (p < end) {
    auto c = *p;
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>'
          && c != '&') {
        out += static_cast<char>(c);
      } else if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else {
        out += "\\u00";
        out += hex_digits[c >> 4];
        out += hex_digits[c & 0xF];
      }
      ++p;
      continue;
    }
    auto n = utf8_sequence(p, end);
    if (n == 0) {
      out += "\\ufffd";
      ++p;
      continue;
    }
    if (n == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
      out += p[2] == 0xA8 ? "\\u2028" : "\\u2029";
    } else {
      out.append(reinterpret_cast<const char*>(p), n);
    }
    p += n;
  }
  out += '"';
}

std::string go_time_text(std::chrono::system_clock::time_point at) {
  using namespace std::chrono;
  auto since = duration_cast<nanoseconds>(at.time_since_epoch()).count();
  auto seconds = since / 1'000'000'000;
  auto nanos = since % 1'000'000'000;
  if (nanos < 0) { // before 1970: floor, so the fraction stays positive
    nanos += 1'000'000'000;
    --seconds;
  }
  auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::string out;
  out.reserve(30);
  append_digits(out, tm.tm_year + 1900L, 4);
  out += '-';
  append_digits(out, tm.tm_mon + 1, 2);
  out += '-';
  append_digits(out, tm.tm_mday, 2);
  out += 'T';
  append_digits(out, tm.tm_hour, 2);
  out += ':';
  append_digits(out, tm.tm_min, 2);
  out += ':';
  append_digits(out, tm.tm_sec, 2);
  if (nanos != 0) {
    out += '.';
    int width = 9;
    while (nanos % 10 == 0) { // RFC3339Nano drops trailing zeros
      nanos /= 10;
      --width;
    }
    append_digits(out, static_cast<long>(nanos), width);
  }
  out += 'Z';
  return out;
}

void results_log::add(const probe_test& test,
                      std::chrono::system_clock::time_point at) {
  if (entries_ > 0)
    encoded_ += ',';
  encoded_ += "{\"address\":";
  append_go_json_string(encoded_, test.address);
  encoded_ += ",\"port\":";
  encoded_ += std::to_string(test.port);
  encoded_ += ",\"connectionidx\":";
  encoded_ += std::to_string(test.connection_index);
  encoded_ += ",\"npname\":";
  append_go_json_string(encoded_, test.netpol);
  encoded_ += ",\"timestamp\":\"";
  encoded_ += go_time_text(at);
  encoded_ += "\"}";
  ++entries_;
}

std::string results_log::body() const {
  std::string out;
  out.reserve(encoded_.size() + 3);
  out += '[';
  out += encoded_;
  out += "]\n";
  return out;
}

} // namespace netpol::client
