#include "http_bridge/http_types.hpp"

namespace netpol {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Percent-decodes `text` ('+' is a space in a query); false if an escape is
/// malformed.
bool decode(std::string_view text, bool query, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size())
        return false;
      auto high = hex_value(text[i + 1]);
      auto low = hex_value(text[i + 2]);
      if (high < 0 || low < 0)
        return false;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else if (c == '+' && query) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

} // namespace

bool parse_target(std::string_view target, std::string& path,
                  std::map<std::string, std::string>& query) {
  if (target.empty() || target.front() != '/')
    return false;
  auto question = target.find('?');
  if (!decode(target.substr(0, question), false, path))
    return false;
  query.clear();
  if (question == std::string_view::npos)
    return true;
  auto rest = target.substr(question + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{}
                                         : rest.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    std::string key;
    std::string value;
    if (!decode(pair.substr(0, eq), true, key))
      return false;
    if (eq != std::string_view::npos && !decode(pair.substr(eq + 1), true, value))
      return false;
    query.emplace(std::move(key), std::move(value)); // the first one counts
  }
  return true;
}

} // namespace netpol
