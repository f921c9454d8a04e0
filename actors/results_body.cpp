#include "actors/results_body.hpp"

#include <cstring>
#include <limits>

namespace netpol {

namespace {

/// Go's encoding/json refuses documents nesting containers deeper than
/// this (scanner.go, maxNestingDepth); kube-burner reads a pod's body one
/// level down, inside the /results object.
constexpr uint32_t go_max_depth = 10000;
constexpr uint32_t body_max_depth = go_max_depth - 1;

/// The connTest fields kube-burner decodes; other keys pass unchecked.
enum class field : uint8_t {
  other,
  address,
  npname,
  timestamp,
  port,
  connectionidx
};

const char* name_of(field x) {
  switch (x) {
    case field::address:
      return "address";
    case field::npname:
      return "npname";
    case field::timestamp:
      return "timestamp";
    case field::port:
      return "port";
    case field::connectionidx:
      return "connectionidx";
    default:
      return "";
  }
}

/// Bytes that may stand in a JSON string as they are: Go's scanner refuses
/// only control characters there (and ends the string at '"', escapes at
/// '\\'); any byte from 0x20 up passes, valid UTF-8 or not.
struct plain_table {
  bool plain[256];
  constexpr plain_table() : plain() {
    for (int c = 0; c < 256; ++c)
      plain[c] = c >= 0x20 && c != '"' && c != '\\';
  }
};
constexpr plain_table plain_bytes;

bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

/// `name` (lowercase ASCII letters) matches key `t` as Go's decoder matches
/// a struct field's name (encoding/json fold.go, for an ASCII name):
/// ASCII letters in either case, and 's' also U+017F (UTF-8 C5 BF). The
/// Kelvin sign folds to 'k', but no connTest field name has a 'k'.
bool go_fold_equal(std::string_view name, const unsigned char* t, size_t n) {
  size_t j = 0;
  for (char c : name) {
    if (j == n)
      return false;
    if (t[j] < 0x80) {
      if ((t[j] | 0x20) != static_cast<unsigned char>(c))
        return false;
      ++j;
    } else if (c == 's' && n - j >= 2 && t[j] == 0xC5 && t[j + 1] == 0xBF) {
      j += 2;
    } else {
      return false;
    }
  }
  return j == n;
}

/// Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
/// forms, no surrogates, at most U+10FFFF), or 0: what Go's
/// utf8.DecodeRune accepts, which decodes anything else as U+FFFD, width 1.
size_t utf8_length(const unsigned char* p, const unsigned char* end) {
  auto lead = *p;
  size_t length;
  unsigned char low = 0x80, high = 0xBF; // the second byte's range
  if (lead < 0x80) {
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0)
      low = 0xA0;
    else if (lead == 0xED)
      high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0)
      low = 0x90;
    else if (lead == 0xF4)
      high = 0x8F;
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) < length || p[1] < low || p[1] > high)
    return 0;
  for (size_t i = 2; i < length; ++i)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return 0;
  return length;
}

bool valid_utf8(const unsigned char* p, const unsigned char* end) {
  while (p < end) {
    auto n = utf8_length(p, end);
    if (n == 0)
      return false;
    p += n;
  }
  return true;
}

/// The value of four hex digits at p (checked by the scanner), or -1.
int hex4(const unsigned char* p, const unsigned char* end) {
  if (end - p < 4)
    return -1;
  int result = 0;
  for (int i = 0; i < 4; ++i) {
    auto c = p[i];
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      return -1;
    result = result * 16 + digit;
  }
  return result;
}

void append_utf8(uint32_t code, std::string& out) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

/// Appends the value of the scanned string bytes [p, last) as Go's
/// unquote decodes them (encoding/json decode.go, unquoteBytes): escapes
/// resolved, a surrogate pair joined, a lone surrogate escape and each byte
/// that starts no well-formed UTF-8 sequence replaced by U+FFFD. Stops
/// once `out` is longer than `limit`.
void go_unquote(const unsigned char* p, const unsigned char* last,
                std::string& out, size_t limit = std::string::npos) {
  constexpr uint32_t replacement = 0xFFFD;
  while (p < last && out.size() <= limit) {
    if (*p == '\\') {
      auto kind = p[1];
      p += 2;
      switch (kind) {
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          auto code = static_cast<uint32_t>(hex4(p, last));
          p += 4;
          if (code >= 0xD800 && code <= 0xDFFF) {
            int low = -1;
            if (code < 0xDC00 && last - p >= 6 && p[0] == '\\' && p[1] == 'u')
              low = hex4(p + 2, last);
            if (low >= 0xDC00 && low <= 0xDFFF) {
              code = 0x10000 + ((code - 0xD800) << 10)
                     + (static_cast<uint32_t>(low) - 0xDC00);
              p += 6;
            } else {
              code = replacement;
            }
          }
          append_utf8(code, out);
          break;
        }
        default: // '"', '\\', '/'
          out += static_cast<char>(kind);
      }
      continue;
    }
    auto n = utf8_length(p, last);
    if (n == 0) {
      append_utf8(replacement, out);
      ++p;
    } else {
      out.append(reinterpret_cast<const char*>(p), n);
      p += n;
    }
  }
}

/// What scanning a string found.
struct string_token {
  const unsigned char* first; // after the opening quote
  const unsigned char* last;  // on the closing quote
  bool escaped;               // it holds a backslash escape
  bool non_ascii;             // it holds a byte >= 0x80
};

/// One pass over a /results body: a JSON scanner with the grammar of Go's
/// encoding/json scanner that applies kube-burner's decoding rules as it
/// goes (see validate_results_body). It copies no tokens and calls no
/// virtual functions: the proxy runs it over every byte it collects.
/// Depth 1 is the array, depth 2 an entry object; the values of unknown
/// fields are skipped on an explicit stack (no recursion), as deep as Go
/// allows.
class results_scanner {
public:
  results_scanner(std::string_view body, const results_visitor* visitor)
    : begin_(reinterpret_cast<const unsigned char*>(body.data())),
      pos_(begin_),
      end_(begin_ + body.size()),
      visitor_(visitor) {
  }

  uint32_t entries = 0;
  std::string error;

  bool run() {
    skip_whitespace();
    if (pos_ == end_)
      return syntax("unexpected end of input, expected a value");
    if (*pos_ == 'n') { // Go leaves the slice nil: no entries
      if (!literal("null"))
        return false;
    } else if (*pos_ != '[') {
      return not_a_value_or("expected a JSON array of objects, got ");
    } else if (!array()) {
      return false;
    }
    skip_whitespace();
    if (pos_ != end_)
      return syntax("unexpected content after the top-level value");
    return true;
  }

private:
  // -- the entry structure ----------------------------------------------------

  /// The body's array, at its '['.
  bool array() {
    ++pos_;
    depth_ = 1;
    skip_whitespace();
    if (pos_ < end_ && *pos_ == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_whitespace();
      if (pos_ == end_)
        return syntax("unexpected end of input, expected a value");
      if (*pos_ == '{') {
        if (!entry_object())
          return false;
      } else if (*pos_ == 'n') {
        if (!literal("null"))
          return false;
        auto index = entries++;
        if (visitor_) {
          entry_ = results_entry{};
          entry_.index = index;
          entry_.is_null = true;
          (*visitor_)(entry_);
        }
      } else {
        return not_a_value_or("entry " + std::to_string(entries)
                              + " is not an object: got ");
      }
      skip_whitespace();
      if (pos_ == end_)
        return syntax("unexpected end of input");
      if (*pos_ == ',') {
        ++pos_;
        continue;
      }
      if (*pos_ == ']') {
        ++pos_;
        return true;
      }
      return syntax("expected ',' or ']' in an array");
    }
  }

  /// One entry, at its '{'.
  bool entry_object() {
    auto index = entries++;
    if (visitor_) {
      entry_ = results_entry{};
      entry_.index = index;
    }
    ++pos_;
    depth_ = 2;
    skip_whitespace();
    if (pos_ < end_ && *pos_ == '}') {
      ++pos_;
    } else {
      for (;;) {
        skip_whitespace();
        if (pos_ == end_ || *pos_ != '"')
          return syntax("expected a string as an object key");
        string_token key;
        if (!string(key))
          return false;
        key_ = classify(key);
        skip_whitespace();
        if (pos_ == end_ || *pos_ != ':')
          return syntax("expected ':' after an object key");
        ++pos_;
        skip_whitespace();
        if (pos_ == end_)
          return syntax("unexpected end of input, expected a value");
        if (!member_value())
          return false;
        skip_whitespace();
        if (pos_ == end_)
          return syntax("unexpected end of input");
        if (*pos_ == ',') {
          ++pos_;
          continue;
        }
        if (*pos_ == '}') {
          ++pos_;
          break;
        }
        return syntax("expected ',' or '}' in an object");
      }
    }
    depth_ = 1;
    if (visitor_)
      (*visitor_)(entry_);
    return true;
  }

  /// The field Go's decoder matches `key` to.
  field classify(const string_token& key) {
    auto n = static_cast<size_t>(key.last - key.first);
    if (!key.escaped && !key.non_ascii) {
      // The common case: compare the bytes as they are.
      switch (n) {
        case 4:
          return ascii_fold(key.first, "port") ? field::port : field::other;
        case 6:
          return ascii_fold(key.first, "npname") ? field::npname
                                                 : field::other;
        case 7:
          return ascii_fold(key.first, "address") ? field::address
                                                  : field::other;
        case 9:
          return ascii_fold(key.first, "timestamp") ? field::timestamp
                                                    : field::other;
        case 13:
          return ascii_fold(key.first, "connectionidx") ? field::connectionidx
                                                        : field::other;
        default:
          return field::other;
      }
    }
    // Escaped or not ASCII: match the value as Go unquotes it. A match is
    // at most 13 bytes ("connectionidx"), each at most 6 in the body.
    constexpr size_t longest = 13;
    if (n > 6 * longest)
      return field::other;
    key_buffer_.clear();
    go_unquote(key.first, key.last, key_buffer_, longest);
    auto t = reinterpret_cast<const unsigned char*>(key_buffer_.data());
    for (auto x : {field::address, field::npname, field::timestamp, field::port,
                   field::connectionidx})
      if (go_fold_equal(name_of(x), t, key_buffer_.size()))
        return x;
    return field::other;
  }

  /// `name`'s length of bytes at p equal it in either ASCII case.
  static bool ascii_fold(const unsigned char* p, std::string_view name) {
    if (std::memcmp(p, name.data(), name.size()) == 0)
      return true;
    for (size_t i = 0; i < name.size(); ++i)
      if ((p[i] | 0x20) != static_cast<unsigned char>(name[i]))
        return false;
    return true;
  }

  /// The value of entry member key_, at its first byte.
  bool member_value() {
    auto c = *pos_;
    if (key_ == field::other)
      return skip_value();
    if (c == 'n') // Go leaves the field as it was
      return literal("null");
    switch (key_) {
      case field::address:
      case field::npname: {
        if (c != '"')
          return type_error("a string");
        string_token text;
        if (!string(text))
          return false;
        if (visitor_)
          store_string(text);
        return true;
      }
      case field::timestamp: {
        if (c != '"')
          return type_error("a string");
        string_token text;
        if (!string(text))
          return false;
        std::string_view raw{reinterpret_cast<const char*>(text.first),
                             static_cast<size_t>(text.last - text.first)};
        int64_t seconds = 0;
        uint32_t nanos = 0;
        if (!is_go_rfc3339(raw, &seconds, &nanos))
          return fail("entry " + std::to_string(entries - 1)
                      + ": field \"timestamp\" is not an RFC 3339 time as Go "
                        "reads it: \""
                      + std::string{raw.substr(0, 64)}
                      + (raw.size() > 64 ? "...\"" : "\""));
        if (visitor_) {
          entry_.has_timestamp = true;
          entry_.timestamp = raw;
          entry_.timestamp_seconds = seconds;
          entry_.timestamp_nanos = nanos;
        }
        return true;
      }
      default: // port, connectionidx
        if (c != '-' && !is_digit(c))
          return type_error("an integer");
        return integer();
    }
  }

  /// Sets the visited entry's address or npname to a scanned string's value.
  void store_string(const string_token& text) {
    bool address = key_ == field::address;
    std::string_view value;
    if (!text.escaped && (!text.non_ascii || valid_utf8(text.first, text.last))) {
      value = {reinterpret_cast<const char*>(text.first),
               static_cast<size_t>(text.last - text.first)};
    } else {
      auto& buffer = address ? address_buffer_ : npname_buffer_;
      buffer.clear();
      go_unquote(text.first, text.last, buffer);
      value = buffer;
    }
    if (address) {
      entry_.address = value;
      entry_.has_address = true;
    } else {
      entry_.npname = value;
      entry_.has_npname = true;
    }
  }

  /// An int field's number, at its first byte: Go reads it with
  /// strconv.ParseInt, so integer syntax only, in the field type's range.
  bool integer() {
    auto first = pos_;
    bool negative = *pos_ == '-';
    if (negative)
      ++pos_;
    if (pos_ == end_ || !is_digit(*pos_))
      return syntax("invalid number, expected a digit");
    uint64_t limit = key_ == field::port
                       ? uint64_t{std::numeric_limits<int32_t>::max()}
                       : uint64_t{std::numeric_limits<int64_t>::max()};
    limit += negative ? 1 : 0;
    uint64_t magnitude = 0;
    bool in_range = true;
    if (*pos_ == '0') {
      ++pos_;
    } else {
      for (; pos_ < end_ && is_digit(*pos_); ++pos_) {
        auto digit = static_cast<uint64_t>(*pos_ - '0');
        if (in_range && magnitude <= (limit - digit) / 10)
          magnitude = magnitude * 10 + digit;
        else
          in_range = false;
      }
    }
    if (pos_ < end_ && (*pos_ == '.' || *pos_ == 'e' || *pos_ == 'E'))
      return fail("entry " + std::to_string(entries - 1) + ": field \""
                  + name_of(key_)
                  + "\" must be an integer, got a number with a fraction or "
                    "exponent");
    if (!in_range)
      return fail("entry " + std::to_string(entries - 1) + ": field \""
                  + name_of(key_) + "\" out of range: "
                  + std::string{reinterpret_cast<const char*>(first),
                                static_cast<size_t>(pos_ - first)});
    if (visitor_) {
      // magnitude <= limit, so -(magnitude - 1) - 1 cannot overflow.
      int64_t value = !negative || magnitude == 0
                        ? static_cast<int64_t>(magnitude)
                        : -static_cast<int64_t>(magnitude - 1) - 1;
      if (key_ == field::port) {
        entry_.port = static_cast<int32_t>(value);
        entry_.has_port = true;
      } else {
        entry_.connectionidx = value;
        entry_.has_connectionidx = true;
      }
    }
    return true;
  }

  bool type_error(const char* expected) {
    return not_a_value_or("entry " + std::to_string(entries - 1) + ": field \""
                          + name_of(key_) + "\" must be " + expected
                          + ", got ");
  }

  /// Fails with `why` + the type of the value at pos_, or with a syntax
  /// error if no value starts there.
  bool not_a_value_or(std::string why) {
    const char* type;
    switch (*pos_) {
      case '{':
        type = "an object";
        break;
      case '[':
        type = "an array";
        break;
      case '"':
        type = "a string";
        break;
      case 't':
      case 'f':
        type = "a boolean";
        break;
      default:
        if (*pos_ == '-' && (end_ - pos_ < 2 || !is_digit(pos_[1]))) {
          ++pos_;
          return syntax("invalid number, expected a digit");
        }
        if (*pos_ != '-' && !is_digit(*pos_))
          return syntax("unexpected character, expected a value");
        type = "a number";
    }
    return fail(why + type);
  }

  // -- the grammar ------------------------------------------------------------

  /// Skips one value of an unknown field at its first byte, checking only
  /// its syntax and depth; containers on an explicit stack.
  bool skip_value() {
    const auto base = depth_;
    for (;;) {
      if (pos_ == end_)
        return syntax("unexpected end of input, expected a value");
      switch (*pos_) {
        case '{':
        case '[': {
          bool object = *pos_ == '{';
          if (depth_ == body_max_depth)
            return syntax("nested deeper than Go allows (9,999 levels in a "
                          "pod's body, 10,000 in /results)");
          ++depth_;
          set_object(object);
          ++pos_;
          skip_whitespace();
          if (pos_ < end_ && *pos_ == (object ? '}' : ']')) {
            ++pos_;
            --depth_;
            break; // an empty container: a complete value
          }
          if (object && !skip_key())
            return false;
          skip_whitespace();
          continue; // its first value
        }
        case '"': {
          string_token ignored;
          if (!string(ignored))
            return false;
          break;
        }
        case 't':
          if (!literal("true"))
            return false;
          break;
        case 'f':
          if (!literal("false"))
            return false;
          break;
        case 'n':
          if (!literal("null"))
            return false;
          break;
        default:
          if (!number())
            return false;
      }
      // After a complete value: close containers, or go to the next value.
      for (;;) {
        if (depth_ == base)
          return true;
        skip_whitespace();
        if (pos_ == end_)
          return syntax("unexpected end of input");
        bool object = is_object();
        if (*pos_ == ',') {
          ++pos_;
          if (object && !skip_key())
            return false;
          skip_whitespace();
          break;
        }
        if (*pos_ != (object ? '}' : ']'))
          return syntax(object ? "expected ',' or '}' in an object"
                               : "expected ',' or ']' in an array");
        ++pos_;
        --depth_;
      }
    }
  }

  /// Reads `"key" :` in a skipped object.
  bool skip_key() {
    skip_whitespace();
    if (pos_ == end_ || *pos_ != '"')
      return syntax("expected a string as an object key");
    string_token ignored;
    if (!string(ignored))
      return false;
    skip_whitespace();
    if (pos_ == end_ || *pos_ != ':')
      return syntax("expected ':' after an object key");
    ++pos_;
    return true;
  }

  void set_object(bool object) {
    auto bit = uint64_t{1} << (depth_ & 63);
    if (object)
      kinds_[depth_ >> 6] |= bit;
    else
      kinds_[depth_ >> 6] &= ~bit;
  }

  bool is_object() const {
    return (kinds_[depth_ >> 6] >> (depth_ & 63)) & 1;
  }

  /// Scans a string at pos_ (on its opening quote) and steps past it.
  bool string(string_token& token) {
    auto p = ++pos_;
    token.first = p;
    token.escaped = false;
    unsigned char seen = 0; // the OR of the plain bytes
    for (;;) {
      while (p < end_ && plain_bytes.plain[*p])
        seen |= *p++;
      if (p == end_) {
        pos_ = p;
        return syntax("unexpected end of input in a string");
      }
      auto c = *p;
      if (c == '"')
        break;
      if (c != '\\') {
        pos_ = p;
        return syntax("control character in a string must be escaped");
      }
      token.escaped = true;
      pos_ = p;
      if (!escape())
        return false;
      p = pos_;
    }
    token.last = p;
    token.non_ascii = seen >= 0x80;
    pos_ = p + 1;
    return true;
  }

  /// Checks one escape at pos_ (on its backslash) and steps over it. Any
  /// \u code passes: Go decodes a lone surrogate as U+FFFD.
  bool escape() {
    if (end_ - pos_ < 2)
      return syntax("unexpected end of input in a string");
    switch (pos_[1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        pos_ += 2;
        return true;
      case 'u':
        if (hex4(pos_ + 2, end_) < 0)
          return syntax("\\u must be followed by four hex digits");
        pos_ += 6;
        return true;
      default:
        return syntax("invalid escape in a string");
    }
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - pos_) < word.size()
        || std::memcmp(pos_, word.data(), word.size()) != 0)
      return syntax("invalid literal");
    pos_ += word.size();
    return true;
  }

  /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, any magnitude: Go's
  /// scanner checks only the syntax of a number it does not store.
  bool number() {
    bool minus = *pos_ == '-';
    if (minus)
      ++pos_;
    if (pos_ == end_ || !is_digit(*pos_))
      return syntax(minus ? "invalid number, expected a digit"
                          : "unexpected character, expected a value");
    if (*pos_ == '0')
      ++pos_;
    else
      skip_digits();
    if (pos_ < end_ && *pos_ == '.') {
      ++pos_;
      if (pos_ == end_ || !is_digit(*pos_))
        return syntax("invalid number, expected a digit after '.'");
      skip_digits();
    }
    if (pos_ < end_ && (*pos_ == 'e' || *pos_ == 'E')) {
      ++pos_;
      if (pos_ < end_ && (*pos_ == '+' || *pos_ == '-'))
        ++pos_;
      if (pos_ == end_ || !is_digit(*pos_))
        return syntax("invalid number, expected a digit in the exponent");
      skip_digits();
    }
    return true;
  }

  void skip_digits() {
    while (pos_ < end_ && is_digit(*pos_))
      ++pos_;
  }

  void skip_whitespace() {
    while (pos_ < end_
           && (*pos_ == ' ' || *pos_ == '\n' || *pos_ == '\r' || *pos_ == '\t'))
      ++pos_;
  }

  bool syntax(const char* what) {
    return fail("invalid JSON at byte " + std::to_string(pos_ - begin_) + ": "
                + what);
  }

  bool fail(std::string why) {
    if (error.empty())
      error = std::move(why);
    return false;
  }

  const unsigned char* begin_;
  const unsigned char* pos_;
  const unsigned char* end_;
  const results_visitor* visitor_; // null: validate only
  uint32_t depth_ = 0;             // containers open at pos_
  field key_ = field::other;       // the entry field being read (depth 2)
  uint64_t kinds_[body_max_depth / 64 + 1]; // bit per depth: an object
  results_entry entry_;            // the entry being read, with a visitor
  std::string key_buffer_;         // an escaped or non-ASCII entry key
  std::string address_buffer_;     // a decoded address, when not a view
  std::string npname_buffer_;
};

/// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's
/// days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

/// The text time.Parse reads, with Go's byte tests: out-of-range indices
/// are never a digit nor a given byte.
struct go_time_text {
  std::string_view s;

  bool digit(size_t i) const {
    return i < s.size() && is_digit(static_cast<unsigned char>(s[i]));
  }

  bool at(size_t i, char c) const { return i < s.size() && s[i] == c; }

  /// The `count` digits from `i` as a number (the caller checked them).
  int num(size_t i, size_t count) const {
    int result = 0;
    for (size_t k = i; k < i + count; ++k)
      result = result * 10 + (s[k] - '0');
    return result;
  }

  /// A fraction begins at `i`: '.' or ',' and a digit.
  bool fraction_at(size_t i) const {
    return (at(i, '.') || at(i, ',')) && digit(i + 1);
  }
};

/// The fields of an RFC 3339 time as read, before the day's check.
struct go_time_fields {
  int year = 0, month = 0, day = 0;
  int hour = 0, minute = 0, second = 0;
  uint32_t fraction = 0; // nanoseconds
  int offset = 0;        // seconds east of UTC
};

/// "2006-01-02T": four digits (atoi of four bytes, the first a digit), then
/// exactly two digits each; the month's range. The day is checked last.
bool parse_go_date(const go_time_text& t, go_time_fields& f) {
  if (!t.digit(0) || !t.digit(1) || !t.digit(2) || !t.digit(3)
      || !t.at(4, '-'))
    return false;
  f.year = t.num(0, 4);
  if (!t.digit(5) || !t.digit(6) || !t.at(7, '-') || !t.digit(8)
      || !t.digit(9) || !t.at(10, 'T'))
    return false;
  f.month = t.num(5, 2);
  f.day = t.num(8, 2);
  return f.month >= 1 && f.month <= 12;
}

/// "15:04:05" from `p`, which it moves past them.
bool parse_go_clock(const go_time_text& t, size_t& p, go_time_fields& f) {
  // 15: one or two digits.
  if (!t.digit(p))
    return false;
  f.hour = t.s[p++] - '0';
  if (t.digit(p))
    f.hour = f.hour * 10 + (t.s[p++] - '0');
  if (f.hour > 23)
    return false;
  // 04: exactly two digits.
  if (!t.at(p, ':') || !t.digit(p + 1) || !t.digit(p + 2) || !t.at(p + 3, ':'))
    return false;
  f.minute = t.num(p + 1, 2);
  if (f.minute > 59)
    return false;
  p += 4;
  // 05: exactly two digits, or none before a fraction: Go's getnum fails
  // there, but the fraction's parse that follows overwrites its error, so
  // "11:18:.5Z" is 11:18:00.5.
  f.second = 0;
  if (t.digit(p) && t.digit(p + 1)) {
    f.second = t.num(p, 2);
    if (f.second > 59)
      return false;
    p += 2;
  } else if (!t.fraction_at(p)) {
    return false;
  }
  return true;
}

/// A fraction the layout does not name, if one is at `p`: '.' or ',' and at
/// least one digit; every digit is read, the first nine count.
void parse_go_fraction(const go_time_text& t, size_t& p, go_time_fields& f) {
  f.fraction = 0;
  if (!t.fraction_at(p))
    return;
  int kept = 0;
  for (++p; t.digit(p); ++p)
    if (kept < 9) {
      f.fraction = f.fraction * 10 + static_cast<uint32_t>(t.s[p] - '0');
      ++kept;
    }
  for (; kept < 9; ++kept)
    f.fraction *= 10;
}

/// What atoi takes of the two bytes at `i` (two digits, or '+' or '-' and a
/// digit), into `value`.
bool parse_go_zone_pair(const go_time_text& t, size_t i, int& value) {
  if (t.digit(i) && t.digit(i + 1)) {
    value = t.num(i, 2);
    return true;
  }
  if ((t.s[i] == '+' || t.s[i] == '-') && t.digit(i + 1)) {
    value = t.s[i] == '-' ? -(t.s[i + 1] - '0') : t.s[i + 1] - '0';
    return true;
  }
  return false;
}

/// "Z07:00" from `p`: 'Z', or sign, hh, ':', mm where hh and mm are each
/// what atoi takes of two bytes, no range; moves `p` past it.
bool parse_go_zone(const go_time_text& t, size_t& p, go_time_fields& f) {
  f.offset = 0;
  if (t.at(p, 'Z')) {
    ++p;
    return true;
  }
  const size_t n = t.s.size();
  if (n - p != 6 || (t.s[p] != '+' && t.s[p] != '-') || t.s[p + 3] != ':')
    return false;
  int zone_hour, zone_minute;
  if (!parse_go_zone_pair(t, p + 1, zone_hour)
      || !parse_go_zone_pair(t, p + 4, zone_minute))
    return false;
  f.offset = (zone_hour * 60 + zone_minute) * 60;
  if (t.s[p] == '-')
    f.offset = -f.offset;
  p += 6;
  return true;
}

/// The day within its month (the month already in range).
bool go_day_in_range(const go_time_fields& f) {
  static constexpr int days_in[] = {31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};
  bool leap = (f.year % 4 == 0 && f.year % 100 != 0) || f.year % 400 == 0;
  return f.day >= 1
         && f.day <= days_in[f.month - 1] + (f.month == 2 && leap ? 1 : 0);
}

/// Seconds since the Unix epoch, UTC.
int64_t go_unix_seconds(const go_time_fields& f) {
  return days_from_civil(f.year, static_cast<unsigned>(f.month),
                         static_cast<unsigned>(f.day))
           * 86400
         + f.hour * 3600 + f.minute * 60 + f.second - f.offset;
}

} // namespace

bool is_go_rfc3339(std::string_view s, int64_t* seconds, uint32_t* nanos) {
  // Go 1.19's time.parse with layout "2006-01-02T15:04:05Z07:00", step by
  // step (time/format.go): the checks and the order of the fields.
  const go_time_text t{s};
  go_time_fields f;
  size_t p = 11; // past "2006-01-02T"
  if (!parse_go_date(t, f) || !parse_go_clock(t, p, f))
    return false;
  parse_go_fraction(t, p, f);
  if (!parse_go_zone(t, p, f) || p != s.size())
    return false;
  // The day, checked after the rest.
  if (!go_day_in_range(f))
    return false;
  if (seconds)
    *seconds = go_unix_seconds(f);
  if (nanos)
    *nanos = f.fraction;
  return true;
}

results_check validate_results_body(std::string_view body,
                                    const results_visitor& on_entry) {
  results_scanner scanner{body, on_entry ? &on_entry : nullptr};
  results_check result;
  if (!scanner.run()) {
    result.error = scanner.error.empty() ? "invalid JSON" : scanner.error;
    return result;
  }
  result.ok = true;
  result.entries = scanner.entries;
  return result;
}

} // namespace netpol
