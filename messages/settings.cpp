#include "messages/settings.hpp"

#include <algorithm>

namespace netpol {

std::string describe_duration(caf::timespan x) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

caf::timespan proxy_settings::backoff(uint32_t failed_attempts) const {
  auto delay = backoff_base;
  for (uint32_t i = 1; i < failed_attempts && delay < backoff_cap; ++i)
    delay *= 2;
  return std::min(delay, backoff_cap);
}

} // namespace netpol
