#include "client/check_list.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <unordered_map>

namespace netpol::client {

namespace {

using json = nlohmann::json;

/// A slice as Go's decoder fills it. A repeated key decodes into the slice
/// it has: from index 0, over the values of the earlier list, which stay in
/// its backing array past the new length too; a null element (Go leaves a
/// string or int as it is) keeps the value at its index.
template <class T>
class go_slice {
public:
  auto begin() const {
    return backing_.begin();
  }
  size_t size() const {
    return size_;
  }
  auto end() const {
    return backing_.begin() + static_cast<std::ptrdiff_t>(size_);
  }
  /// `null` for the whole list: a nil slice.
  void set_nil() {
    backing_.clear();
    size_ = 0;
  }
  void open() {
    next_ = 0;
  }
  /// The next element, to decode into (a null leaves it as it is).
  T& element() {
    if (next_ >= backing_.size())
      backing_.emplace_back(); // beyond all earlier lists: a zero value
    return backing_[next_++];
  }
  void close() {
    size_ = next_;
    if (size_ == 0)
      backing_.clear(); // `[]`: Go makes a new empty slice
  }

private:
  std::vector<T> backing_; // every element decoded since the last reset
  size_t size_ = 0;
  size_t next_ = 0;
};

/// One element of the body as Go's decoder leaves it, before expansion.
struct raw_connection {
  go_slice<std::string> addresses;
  go_slice<int64_t> ports;
  std::string netpol;
};

/// Go's decoder refuses a document nested deeper than this.
constexpr int go_max_depth = 10000;

enum class field { none, addresses, ports, netpol, other };

/// Go matches a key to a field name exactly, else case-insensitively, with
/// 'ſ' (U+017F, UTF-8 C5 BF) folding to 's' (encoding/json's fold.go). Our
/// names are lower-case ASCII letters, and 's' is their only special one.
bool go_name_matches(std::string_view name, std::string_view key) {
  size_t k = 0;
  for (char wanted : name) {
    if (k >= key.size())
      return false;
    auto c = static_cast<unsigned char>(key[k]);
    if (wanted == 's' && c == 0xC5 && k + 1 < key.size()
        && static_cast<unsigned char>(key[k + 1]) == 0xBF) {
      k += 2;
      continue;
    }
    if (c >= 'A' && c <= 'Z')
      c = static_cast<unsigned char>(c - 'A' + 'a');
    if (c != static_cast<unsigned char>(wanted))
      return false;
    ++k;
  }
  return k == key.size();
}

field field_of(std::string_view key) {
  for (auto [name, f] : {std::pair{"addresses", field::addresses},
                         std::pair{"ports", field::ports},
                         std::pair{"netpol", field::netpol}})
    if (go_name_matches(name, key))
      return f;
  return field::other;
}

const char* go_type_of(field f) {
  switch (f) {
    case field::addresses:
      return "an array of strings";
    case field::ports:
      return "an array of integers";
    default:
      return "a string";
  }
}

const char* quoted_name(field f) {
  switch (f) {
    case field::addresses:
      return "\"addresses\"";
    case field::ports:
      return "\"ports\"";
    default:
      return "\"netpol\"";
  }
}

/// Reads the body in one SAX pass with Go's decoding rules. Depth 1 is the
/// body's array, 2 a connection object, 3 the array of "addresses" or
/// "ports"; values Go ignores (other keys) are skipped whatever they hold.
class check_sax : public json::json_sax_t {
public:
  std::vector<raw_connection> connections;
  std::string error;

  bool null() override {
    return scalar("null", [this](raw_connection& c) {
      if (depth_ == 1) {
        connections.emplace_back(); // a zero connection: no tests
      } else if (depth_ == 2) {
        if (field_ == field::addresses)
          c.addresses.set_nil(); // null sets a slice to nil; a string stays
        else if (field_ == field::ports)
          c.ports.set_nil();
      } else if (depth_ == 3) {
        if (field_ == field::addresses)
          c.addresses.element(); // a null element: what is there stays
        else
          c.ports.element();
      }
      return true;
    });
  }
  bool boolean(bool) override {
    return scalar("boolean", nullptr);
  }
  bool number_integer(number_integer_t val) override {
    return integer(val);
  }
  bool number_unsigned(number_unsigned_t val) override {
    if (val > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return scalar("number beyond Go's int", nullptr);
    return integer(static_cast<int64_t>(val));
  }
  bool number_float(number_float_t, const string_t&) override {
    return scalar("number that is not an integer", nullptr);
  }
  bool string(string_t& val) override {
    return scalar("string", [this, &val](raw_connection& c) {
      if (depth_ == 2 && field_ == field::netpol) {
        c.netpol = std::move(val);
        return true;
      }
      if (depth_ == 3 && field_ == field::addresses) {
        c.addresses.element() = std::move(val);
        return true;
      }
      return false;
    });
  }
  bool binary(binary_t&) override {
    return fail("binary values are not JSON");
  }
  bool start_object(std::size_t) override {
    if (depth_ + skip_ >= go_max_depth)
      return too_deep();
    if (skipping())
      return enter_skipped();
    if (depth_ == 1) {
      connections.emplace_back();
      ++depth_;
      return true;
    }
    return container("object");
  }
  bool key(string_t& val) override {
    if (skip_ > 0)
      return true;
    field_ = field_of(val);
    return true;
  }
  bool end_object() override {
    return leave();
  }
  bool start_array(std::size_t) override {
    if (depth_ + skip_ >= go_max_depth)
      return too_deep();
    if (skipping())
      return enter_skipped();
    if (depth_ == 0
        || (depth_ == 2
            && (field_ == field::addresses || field_ == field::ports))) {
      if (depth_ == 2) {
        auto& c = connections.back();
        field_ == field::addresses ? c.addresses.open() : c.ports.open();
      }
      ++depth_;
      return true;
    }
    return container("array");
  }
  bool end_array() override {
    return leave();
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    if (error.empty())
      error = "not JSON at byte " + std::to_string(position) + ": "
              + ex.what();
    return false;
  }

private:
  /// Inside a value Go ignores: the value of another key, or deeper.
  bool skipping() const {
    return skip_ > 0 || (depth_ == 2 && field_ == field::other);
  }

  bool enter_skipped() {
    ++skip_;
    return true;
  }

  bool leave() {
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    --depth_;
    if (depth_ == 2) { // the end of a list: back in the connection object
      auto& c = connections.back();
      field_ == field::addresses ? c.addresses.close() : c.ports.close();
      field_ = field::none;
    }
    return true;
  }

  bool too_deep() {
    return fail("not JSON: nested deeper than Go's "
                + std::to_string(go_max_depth) + " levels");
  }

  std::string where() const {
    return "connection " + std::to_string(connections.size() - 1);
  }

  bool fail(std::string text) {
    error = std::move(text);
    return false;
  }

  /// An object or array where Go wants something else.
  bool container(const char* kind) {
    if (depth_ == 0 || depth_ == 1)
      return fail(std::string{"the body must be an array of connections; "}
                  + (depth_ == 0 ? "it is an " : "an element is an ") + kind);
    return fail(where() + ": " + quoted_name(field_) + " must be "
                + go_type_of(field_) + ", not an " + kind
                + (depth_ == 3 ? " inside it" : ""));
  }

  template <class Store>
  bool scalar(const char* kind, Store store) {
    if (skipping())
      return true;
    if (depth_ == 0) {
      if (std::string_view{kind} == "null")
        return true; // Go: a nil slice, no connections
      return fail(std::string{"the body must be an array of connections, "
                              "not a "}
                  + kind);
    }
    if (depth_ == 1 && std::string_view{kind} != "null")
      return fail("element " + std::to_string(connections.size())
                  + " of the body must be a connection object, not a "
                  + kind);
    if constexpr (!std::is_same_v<Store, std::nullptr_t>) {
      raw_connection scratch;
      auto& c = connections.empty() ? scratch : connections.back();
      if (store(c))
        return true;
    }
    return fail(where() + ": " + quoted_name(field_) + " must be "
                + go_type_of(field_) + ", not a " + kind
                + (depth_ == 3 ? " inside it" : ""));
  }

  bool integer(int64_t val) {
    return scalar("number", [this, val](raw_connection& c) {
      if (depth_ == 3 && field_ == field::ports) {
        c.ports.element() = val;
        return true;
      }
      return false;
    });
  }

  int depth_ = 0;
  int skip_ = 0;
  field field_ = field::none;
};

/// The 4 hex digits at `at` as a number, or -1.
long hex4(std::string_view text, size_t at) {
  if (at + 4 > text.size())
    return -1;
  long out = 0;
  for (char c : text.substr(at, 4)) {
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
    if (digit < 0)
      return -1;
    out = out * 16 + digit;
  }
  return out;
}

/// Scans the string whose text starts at `i`; returns the index after it.
/// Go reads a \u escape of a UTF-16 surrogate that is not the first of a
/// pair as U+FFFD (then the next escape on its own); nlohmann refuses it.
template <class Edit>
size_t rewrite_string(std::string_view body, size_t i, Edit edit) {
  while (i < body.size() && body[i] != '"') {
    if (body[i] != '\\') {
      ++i;
    } else if (i + 1 < body.size() && body[i + 1] == 'u') {
      long unit = hex4(body, i + 2);
      long next = i + 8 <= body.size() && body[i + 6] == '\\'
                      && body[i + 7] == 'u'
                    ? hex4(body, i + 8)
                    : -1;
      if (unit >= 0xD800 && unit <= 0xDBFF && next >= 0xDC00 && next <= 0xDFFF) {
        i += 12; // a pair
      } else if (unit >= 0xD800 && unit <= 0xDFFF) {
        edit(i, "\\ufffd");
        i += 6;
      } else {
        i += 2; // the hex digits are plain text to skip
      }
    } else {
      i += 2;
    }
  }
  return i + 1;
}

bool is_json_number(std::string_view t) {
  size_t i = t.size() > 0 && t[0] == '-' ? 1 : 0;
  auto digits = [&] {
    size_t from = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9')
      ++i;
    return i - from;
  };
  size_t whole = digits();
  if (whole == 0 || (whole > 1 && t[i - whole] == '0'))
    return false;
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (digits() == 0)
      return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-'))
      ++i;
    if (digits() == 0)
      return false;
  }
  return i == t.size();
}

/// Scans the number-like text at `i`; returns the index after it. Go only
/// checks the syntax of a number it ignores; nlohmann refuses one beyond a
/// double's range. A zero of the same length ("0e000") stands in: ignored
/// alike, and refused as a port as Go refuses the big number.
template <class Edit>
size_t rewrite_number(std::string_view body, size_t i, Edit edit) {
  auto end = body.find_first_not_of("0123456789+-.eE", i);
  auto token = body.substr(i, end == std::string_view::npos ? end : end - i);
  if (token.size() >= 5 && is_json_number(token)
      && std::isinf(std::strtod(std::string{token}.c_str(), nullptr))) {
    std::string zero = token[0] == '-' ? "-0e" : "0e";
    zero.append(token.size() - zero.size(), '0');
    edit(i, zero);
  }
  return i + token.size();
}

/// The body with what Go takes and nlohmann refuses rewritten, same length,
/// to what nlohmann takes and reads as Go does; nullopt if nothing is.
std::optional<std::string> go_readable(std::string_view body) {
  std::optional<std::string> out;
  auto edit = [&](size_t at, std::string_view text) {
    if (!out)
      out.emplace(body);
    out->replace(at, text.size(), text);
  };
  for (size_t i = 0; i < body.size();) {
    char c = body[i];
    if (c == '"')
      i = rewrite_string(body, i + 1, edit);
    else if (c == '-' || (c >= '0' && c <= '9'))
      i = rewrite_number(body, i, edit);
    else
      ++i;
  }
  return out;
}

/// The tests the connections expand to, or more than `limit` when they
/// would be more (addresses × ports, counted without overflow).
size_t count_tests(const std::vector<raw_connection>& connections,
                   size_t limit) {
  size_t total = 0;
  for (auto& c : connections) {
    auto addresses = c.addresses.size();
    auto ports = c.ports.size();
    if (addresses > 0 && ports > (limit - total) / addresses)
      return limit + 1;
    total += addresses * ports;
  }
  return total;
}

/// Expands the connections into tests and targets, refusing what could
/// never be tested.
check_parse expand(std::vector<raw_connection>& connections,
                   size_t max_tests) {
  check_parse out;
  auto tests = count_tests(connections, max_tests);
  if (tests > max_tests) {
    out.error = "the list has more than " + std::to_string(max_tests)
                + " tests (addresses × ports), the most --max-tests allows";
    return out;
  }
  check_list list;
  list.connections = connections.size();
  list.tests.reserve(tests);
  std::unordered_map<std::string, size_t> target_of;
  target_of.reserve(tests);
  for (size_t ci = 0; ci < connections.size(); ++ci) {
    auto& c = connections[ci];
    auto where = "connection " + std::to_string(ci) + ": ";
    for (auto port : c.ports)
      if (port < 1 || port > 65535) {
        out.error = where + "port " + std::to_string(port)
                    + " is not in 1-65535";
        return out;
      }
    for (auto& address : c.addresses) {
      if (!is_ip_literal(address) && !is_host_name(address)) {
        out.error = where + "address \"" + address
                    + "\" is neither an IP address nor a host name";
        return out;
      }
      for (auto port : c.ports) {
        probe_test test{address, static_cast<uint16_t>(port),
                        static_cast<int64_t>(ci), c.netpol, 0};
        auto key = address + ' ' + std::to_string(port);
        auto [at, added] = target_of.emplace(key, list.targets.size());
        if (added)
          list.targets.push_back(probe_target{address, test.port, {}});
        test.target = at->second;
        list.targets[at->second].tests.push_back(list.tests.size());
        list.tests.push_back(std::move(test));
      }
    }
  }
  out.list = std::move(list);
  return out;
}

} // namespace

bool is_ip_literal(std::string_view text) {
  if (text.empty() || text.size() > 45)
    return false;
  std::string copy{text};
  unsigned char buffer[16];
  return inet_pton(AF_INET, copy.c_str(), buffer) == 1
         || inet_pton(AF_INET6, copy.c_str(), buffer) == 1;
}

bool is_host_name(std::string_view text) {
  if (!text.empty() && text.back() == '.')
    text.remove_suffix(1);
  if (text.empty() || text.size() > 253)
    return false;
  bool last_all_digits = false;
  size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('.', start);
    if (end == std::string_view::npos)
      end = text.size();
    auto label = text.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-'
        || label.back() == '-')
      return false;
    last_all_digits = true;
    for (char c : label) {
      bool digit = c >= '0' && c <= '9';
      bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!digit && !letter && c != '-')
        return false;
      last_all_digits = last_all_digits && digit;
    }
    start = end + 1;
  }
  // "1.2.3.256" has a name's syntax, but it is a mistyped address.
  return !last_all_digits;
}

check_parse parse_check_body(std::string_view body, size_t max_tests) {
  check_parse out;
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") {
    out.error = "not JSON at byte 1: a byte order mark";
    return out;
  }
  // nlohmann reads a NUL byte where a token may start as the end of the
  // input (it takes `[]\0x`); Go refuses any NUL, as JSON has none.
  if (auto nul = body.find('\0'); nul != std::string_view::npos) {
    out.error = "not JSON at byte " + std::to_string(nul + 1) + ": a NUL byte";
    return out;
  }
  auto readable = go_readable(body);
  if (readable)
    body = *readable;
  check_sax sax;
  bool ok = json::sax_parse(body.begin(), body.end(), &sax);
  if (!ok) {
    out.error = sax.error.empty() ? "not JSON" : sax.error;
    return out;
  }
  return expand(sax.connections, max_tests);
}

} // namespace netpol::client
