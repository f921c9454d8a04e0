#include "actors/pod_client.hpp"

namespace netpol {

std::string pod_url(const std::string& ip, uint16_t port,
                    std::string_view path) {
  auto host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
  return "http://" + host + ":" + std::to_string(port) + std::string{path};
}

} // namespace netpol
