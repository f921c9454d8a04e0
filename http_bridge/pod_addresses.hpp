// Which addresses /initiate may name. The proxy POSTs to every key it is
// given, so whoever reaches port 9002 could aim it anywhere; this is the
// fence (--allow-pods).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netpol {

class pod_address_policy {
public:
  /// The default, which must not break a drop-in (pod IPs can be global
  /// IPv6 addresses): every unicast address except link-local
  /// (169.254.0.0/16, where cloud metadata services answer, and fe80::/10).
  pod_address_policy() = default;

  /// Only addresses inside these CIDRs, e.g. "10.128.0.0/14,fd01::/48".
  /// nullopt, with `error` set, for a list that does not parse.
  static std::optional<pod_address_policy> parse(std::string_view cidrs,
                                                 std::string& error);

  /// Empty when `ip` (a valid IPv4 or IPv6 address) may be called, else
  /// why not. Unspecified, multicast and broadcast addresses never may;
  /// IPv4-mapped IPv6 addresses are judged as the IPv4 address they reach.
  std::string refusal(const std::string& ip) const;

  /// "every unicast address but link-local", or the CIDR list.
  std::string describe() const;

private:
  struct network {
    bool v6 = false;
    unsigned char bytes[16] = {};
    unsigned prefix = 0;
    std::string text;
  };

  static bool contains(const network& net, bool v6,
                       const unsigned char* bytes);

  std::vector<network> allowed_; // empty: the default policy
};

} // namespace netpol
