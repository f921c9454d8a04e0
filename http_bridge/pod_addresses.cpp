#include "http_bridge/pod_addresses.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace netpol {

namespace {

/// The address as 4 or 16 bytes; IPv4-mapped IPv6 becomes IPv4, since a
/// connect to ::ffff:a.b.c.d reaches a.b.c.d.
bool to_bytes(const std::string& text, bool& v6, unsigned char* out) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    v6 = false;
    std::memcpy(out, buf, 4);
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) != 1)
    return false;
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0,
                                           0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(buf, mapped, 12) == 0) {
    v6 = false;
    std::memcpy(out, buf + 12, 4);
    return true;
  }
  v6 = true;
  std::memcpy(out, buf, 16);
  return true;
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return std::string{text};
}

} // namespace

bool pod_address_policy::contains(const network& net, bool v6,
                                  const unsigned char* bytes) {
  if (net.v6 != v6)
    return false;
  unsigned full = net.prefix / 8;
  if (std::memcmp(net.bytes, bytes, full) != 0)
    return false;
  unsigned rest = net.prefix % 8;
  if (rest == 0)
    return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (net.bytes[full] & mask) == (bytes[full] & mask);
}

std::optional<pod_address_policy>
pod_address_policy::parse(std::string_view cidrs, std::string& error) {
  pod_address_policy result;
  while (!cidrs.empty()) {
    auto comma = cidrs.find(',');
    auto item = trim(cidrs.substr(0, comma));
    cidrs = comma == std::string_view::npos ? std::string_view{}
                                            : cidrs.substr(comma + 1);
    if (item.empty())
      continue;
    network net;
    net.text = item;
    auto slash = item.find('/');
    auto address = item.substr(0, slash);
    if (!to_bytes(address, net.v6, net.bytes)) {
      error = "'" + item + "' is not a CIDR like 10.128.0.0/14 or fd00::/48";
      return std::nullopt;
    }
    unsigned width = net.v6 ? 128 : 32;
    net.prefix = width;
    if (slash != std::string::npos) {
      auto digits = item.substr(slash + 1);
      if (digits.empty() || digits.size() > 3
          || digits.find_first_not_of("0123456789") != std::string::npos
          || std::stoul(digits) > width) {
        error = "'" + item + "': the prefix length must be 0 to "
                + std::to_string(width);
        return std::nullopt;
      }
      net.prefix = static_cast<unsigned>(std::stoul(digits));
      // A mapped IPv6 prefix counts in IPv4 bits.
      if (!net.v6 && address.find(':') != std::string::npos) {
        if (net.prefix < 96) {
          error = "'" + item + "': an IPv4-mapped prefix must be /96 or longer";
          return std::nullopt;
        }
        net.prefix -= 96;
      }
    }
    result.allowed_.push_back(std::move(net));
  }
  if (result.allowed_.empty()) {
    error = "the list names no network";
    return std::nullopt;
  }
  return result;
}

std::string pod_address_policy::refusal(const std::string& ip) const {
  bool v6 = false;
  unsigned char b[16] = {};
  if (!to_bytes(ip, v6, b))
    return "not an IP address";
  if (!v6) {
    if (b[0] == 0)
      return "an unspecified address (0.0.0.0/8)";
    if (b[0] >= 224 && b[0] <= 239)
      return "a multicast address";
    if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
      return "the broadcast address";
  } else {
    static const unsigned char zero[16] = {};
    if (std::memcmp(b, zero, 16) == 0)
      return "the unspecified address";
    if (b[0] == 0xff)
      return "a multicast address";
  }
  if (!allowed_.empty()) {
    for (auto& net : allowed_)
      if (contains(net, v6, b))
        return {};
    return "outside --allow-pods (" + describe() + ")";
  }
  if (!v6 && b[0] == 169 && b[1] == 254)
    return "a link-local address (169.254.0.0/16, where cloud metadata "
           "services answer); --allow-pods can permit it";
  if (v6 && b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
    return "a link-local address (fe80::/10); --allow-pods can permit it";
  return {};
}

std::string pod_address_policy::describe() const {
  if (allowed_.empty())
    return "every unicast address but link-local";
  std::string result;
  for (auto& net : allowed_)
    result += (result.empty() ? "" : ",") + net.text;
  return result;
}

} // namespace netpol
