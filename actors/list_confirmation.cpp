#include "actors/list_confirmation.hpp"

#include "messages/digest.hpp"

#include <nlohmann/json.hpp>

namespace netpol {

list_confirmation read_client_status(pod_outcome& out,
                                     std::string_view sent) {
  if (out.status == call_status::http_error && out.http_status == 404) {
    out.detail = "GET /status answered 404: not netpol-client";
    return list_confirmation::cannot_ask;
  }
  if (out.status != call_status::ok)
    return list_confirmation::none; // no answer to read: ask again
  auto status = nlohmann::json::parse(out.body.view(), nullptr, false);
  auto taken = status.is_object() ? status.find("list_taken") : status.end();
  if (!status.is_object() || taken == status.end() || !taken->is_boolean()) {
    out.detail = "GET /status answered 200 without netpol-client's "
                 "list_taken";
    return list_confirmation::cannot_ask;
  }
  if (!taken->get<bool>()) {
    out.detail = "it took no list";
    return list_confirmation::not_taken;
  }
  auto digest = status.value("list_sha256", std::string{});
  if (digest == sha256_hex(sent)) {
    out.detail = "it holds its list (SHA-256 " + digest.substr(0, 12) + "...)";
    return list_confirmation::held;
  }
  out.detail = "it holds another list (SHA-256 " + digest.substr(0, 12)
               + "..., sent " + sha256_hex(sent).substr(0, 12) + "...)";
  return list_confirmation::other_list;
}

} // namespace netpol
