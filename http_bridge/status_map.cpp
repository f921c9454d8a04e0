#include "http_bridge/status_map.hpp"

#include "messages/error.hpp"

#include <caf/sec.hpp>

namespace netpol {

int http_status_of(const caf::error& err) {
  switch (code_of(err)) {
    case errc::no_round:
    case errc::results_not_ready:
    case errc::initiate_refused:
      return 409;
    case errc::bad_input:
      return 400;
    case errc::too_large:
      return 413;
    case errc::unavailable:
      return 503;
    case errc::none:
      break;
  }
  if (err == caf::sec::request_timeout || err == caf::sec::request_receiver_down)
    return 503;
  return 500;
}

std::string error_code_of(const caf::error& err) {
  auto code = code_of(err);
  if (code != errc::none)
    return to_string(code);
  if (err == caf::sec::request_timeout || err == caf::sec::request_receiver_down)
    return to_string(errc::unavailable);
  return "internal";
}

} // namespace netpol
