#include "messages/settings.hpp"

#include <algorithm>

namespace netpol {

caf::timespan proxy_settings::backoff(uint32_t failed_attempts) const {
  auto delay = backoff_base;
  for (uint32_t i = 1; i < failed_attempts && delay < backoff_cap; ++i)
    delay *= 2;
  return std::min(delay, backoff_cap);
}

} // namespace netpol
