// The seam between the actors and the network: one blocking call to one pod.
// curl_pod_client talks HTTP; simulated_pod_client (tests/support) answers from a
// script, so every fault is reproducible without a socket.
#pragma once

#include "messages/settings.hpp"
#include "messages/types.hpp"

#include <caf/timespan.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace netpol {

class pod_client {
public:
  virtual ~pod_client() = default;

  /// POST http://<ip>:<port>/check with the pod's connection array.
  virtual pod_outcome post_check(const std::string& ip,
                                 std::string_view connections)
    = 0;

  /// GET http://<ip>:<port>/results. The body comes back unvalidated.
  virtual pod_outcome get_results(const std::string& ip) = 0;

  /// GET http://<ip>:<port>/status (netpol-client's; the real client
  /// answers 404). The body comes back unread.
  virtual pod_outcome get_status(const std::string& ip) = 0;
};

using pod_client_ptr = std::shared_ptr<pod_client>;

/// `http://10.0.0.1:9001/check`, brackets around IPv6 hosts.
std::string pod_url(const std::string& ip, uint16_t port, std::string_view path);

} // namespace netpol
