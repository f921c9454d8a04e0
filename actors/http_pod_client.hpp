#pragma once

#include "actors/pod_client.hpp"
#include "messages/settings.hpp"

namespace netpol {

/// `http://10.0.0.1:9001/check`, brackets around IPv6 hosts.
std::string pod_url(const std::string& ip, uint16_t port, std::string_view path);

/// The real pod client: cpp-httplib with connect, read and write timeouts and
/// a cap on the answer's size, so no pod can hold a worker for ever.
/// Stateless between calls, so one instance serves every worker thread.
class http_pod_client : public pod_client {
public:
  explicit http_pod_client(const proxy_settings& settings);

  pod_outcome post_check(const std::string& ip,
                         std::string_view connections) override;

  pod_outcome get_results(const std::string& ip) override;

private:
  pod_outcome call(const std::string& ip, const char* method,
                   const char* path, std::string_view body);

  uint16_t port_;
  caf::timespan connect_timeout_;
  caf::timespan request_timeout_;
  uint64_t max_response_bytes_;
};

} // namespace netpol
