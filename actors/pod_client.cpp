#include "actors/pod_client.hpp"

#include <chrono>

namespace netpol {

std::string pod_url(const std::string& ip, uint16_t port,
                    std::string_view path) {
  auto host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
  return "http://" + host + ":" + std::to_string(port) + std::string{path};
}

std::string describe_duration(caf::timespan x) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

} // namespace netpol
