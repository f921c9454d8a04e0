#include "actors/results_body.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <limits>

namespace netpol {

namespace {

bool digits(std::string_view s, size_t pos, size_t count) {
  if (pos + count > s.size())
    return false;
  for (size_t i = pos; i < pos + count; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
  return true;
}

/// A SAX consumer that tracks just enough structure: depth 1 is the array,
/// depth 2 an entry object, deeper values belong to unknown fields.
class results_sax : public nlohmann::json_sax<nlohmann::json> {
public:
  uint32_t entries = 0;
  std::string error;

  bool null() override {
    return scalar("null");
  }
  bool boolean(bool) override {
    return scalar("boolean");
  }
  bool number_integer(number_integer_t val) override {
    if (depth_ == 2 && key_ == "port"
        && (val < std::numeric_limits<int32_t>::min()
            || val > std::numeric_limits<int32_t>::max()))
      return fail_range(std::to_string(val));
    return scalar("integer");
  }
  bool number_unsigned(number_unsigned_t val) override {
    // kube-burner decodes port as int32 and connectionidx as int.
    if (depth_ == 2
        && ((key_ == "port" && val > std::numeric_limits<int32_t>::max())
            || (key_ == "connectionidx"
                && val > static_cast<uint64_t>(
                     std::numeric_limits<int64_t>::max()))))
      return fail_range(std::to_string(val));
    return scalar("integer");
  }
  bool number_float(number_float_t, const string_t&) override {
    return scalar("number");
  }
  bool string(string_t& val) override {
    if (depth_ == 2 && key_ == "timestamp" && !is_rfc3339(val))
      return fail("field \"timestamp\" is not an RFC 3339 time: \"" + val
                  + "\"");
    return scalar("string");
  }
  bool binary(binary_t&) override {
    return fail("unexpected binary value");
  }
  bool start_object(std::size_t) override {
    if (depth_ == 0)
      return fail("expected a JSON array of objects, got an object");
    if (depth_ == 2 && !known_type_ok("object"))
      return false;
    if (depth_ == 1)
      ++entries;
    ++depth_;
    return true;
  }
  bool key(string_t& val) override {
    if (depth_ == 2)
      key_ = val;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 1)
      return fail("entry " + std::to_string(entries) + " is not an object");
    if (depth_ == 2 && !known_type_ok("array"))
      return false;
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    if (error.empty())
      error = "invalid JSON at byte " + std::to_string(position) + ": "
              + ex.what();
    return false;
  }

private:
  bool scalar(const char* type) {
    if (depth_ == 0)
      return fail(std::string{"expected a JSON array of objects, got a "}
                  + type);
    if (depth_ == 1)
      return fail("entry " + std::to_string(entries) + " is not an object");
    if (depth_ == 2)
      return known_type_ok(type);
    return true;
  }

  /// Checks the type of a value at entry level against the known fields.
  bool known_type_ok(std::string_view type) {
    // Go leaves a field at its zero value for null.
    if (type == "null")
      return true;
    auto want = [&](std::string_view expected, const char* article) {
      if (type == expected)
        return true;
      return fail("entry " + std::to_string(entries - 1) + ": field \"" + key_
                  + "\" must be " + article + std::string{expected}
                  + ", got " + std::string{type});
    };
    if (key_ == "address" || key_ == "npname" || key_ == "timestamp")
      return want("string", "a ");
    if (key_ == "port" || key_ == "connectionidx")
      return want("integer", "an ");
    return true;
  }

  bool fail_range(const std::string& value) {
    return fail("entry " + std::to_string(entries - 1) + ": field \"" + key_
                + "\" out of range: " + value);
  }

  bool fail(std::string why) {
    if (error.empty())
      error = std::move(why);
    return false;
  }

  size_t depth_ = 0;
  std::string key_;
};

} // namespace

bool is_rfc3339(std::string_view s) {
  // The form and ranges Go's time.Time.UnmarshalJSON accepts:
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm), uppercase T and Z.
  if (s.size() < 20 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2)
      || s[7] != '-' || !digits(s, 8, 2) || s[10] != 'T' || !digits(s, 11, 2)
      || s[13] != ':' || !digits(s, 14, 2) || s[16] != ':'
      || !digits(s, 17, 2))
    return false;
  auto num = [&](size_t pos, size_t count) {
    int result = 0;
    for (size_t i = pos; i < pos + count; ++i)
      result = result * 10 + (s[i] - '0');
    return result;
  };
  int year = num(0, 4);
  int month = num(5, 2);
  int day = num(8, 2);
  static constexpr int days_in[] = {31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1)
    return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > days_in[month - 1] + (month == 2 && leap ? 1 : 0))
    return false;
  if (num(11, 2) > 23 || num(14, 2) > 59 || num(17, 2) > 59)
    return false;
  size_t pos = 19;
  if (s[pos] == '.') {
    size_t first = ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])))
      ++pos;
    if (pos == first)
      return false;
  }
  if (pos == s.size())
    return false;
  if (s[pos] == 'Z')
    return pos + 1 == s.size();
  if (s[pos] != '+' && s[pos] != '-')
    return false;
  return s.size() == pos + 6 && digits(s, pos + 1, 2) && s[pos + 3] == ':'
         && digits(s, pos + 4, 2) && num(pos + 1, 2) <= 23
         && num(pos + 4, 2) <= 59;
}

results_check validate_results_body(std::string_view body) {
  results_sax sax;
  results_check result;
  bool parsed = nlohmann::json::sax_parse(body.begin(), body.end(), &sax);
  if (!parsed) {
    result.error = sax.error.empty() ? "invalid JSON" : sax.error;
    return result;
  }
  result.ok = true;
  result.entries = sax.entries;
  return result;
}

} // namespace netpol
