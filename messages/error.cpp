#include "messages/error.hpp"

#include <caf/message.hpp>

namespace netpol {

const char* to_string(errc x) {
  switch (x) {
    case errc::none:
      return "none";
    case errc::no_round:
      return "no_round";
    case errc::results_not_ready:
      return "results_not_ready";
    case errc::bad_input:
      return "bad_input";
    case errc::too_large:
      return "too_large";
    case errc::unavailable:
      return "unavailable";
    case errc::initiate_refused:
      return "initiate_refused";
  }
  return "unknown";
}

caf::error make_error(errc code) {
  return caf::error{static_cast<uint8_t>(code), error_category};
}

caf::error make_error(errc code, std::string detail) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(detail))};
}

errc code_of(const caf::error& err) {
  if (!err || err.category() != error_category)
    return errc::none;
  return static_cast<errc>(err.code());
}

std::string detail_of(const caf::error& err) {
  if (err.category() == error_category) {
    const auto& ctx = err.context();
    if (ctx.match_elements<std::string>())
      return ctx.get_as<std::string>(0);
    return to_string(static_cast<errc>(err.code()));
  }
  return caf::to_string(err);
}

} // namespace netpol
