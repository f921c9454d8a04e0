#include "http_bridge/initiate_body.hpp"

#include "messages/error.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>

#include <unordered_set>

namespace netpol {

namespace {

using json = nlohmann::json;

std::string json_string(const std::string& text) {
  return json(text).dump();
}

/// Checks one connection object; returns an empty string when it is valid.
std::string check_connection(const json& conn) {
  if (!conn.is_object())
    return std::string{"must be an object, got "} + conn.type_name();
  auto addresses = conn.find("addresses");
  if (addresses == conn.end() || !addresses->is_array())
    return "\"addresses\" must be an array of strings";
  for (size_t i = 0; i < addresses->size(); ++i)
    if (!(*addresses)[i].is_string())
      return "\"addresses\"[" + std::to_string(i) + "] must be a string, got "
             + (*addresses)[i].type_name();
  auto ports = conn.find("ports");
  if (ports == conn.end() || !ports->is_array())
    return "\"ports\" must be an array of integers";
  for (size_t i = 0; i < ports->size(); ++i) {
    auto& port = (*ports)[i];
    bool ok = port.is_number_integer() && port.get<int64_t>() >= 1
              && port.get<int64_t>() <= 65535;
    if (!ok)
      return "\"ports\"[" + std::to_string(i)
             + "] must be an integer from 1 to 65535, got " + port.dump();
  }
  auto netpol = conn.find("netpol");
  if (netpol == conn.end() || !netpol->is_string())
    return "\"netpol\" must be a string";
  return {};
}

} // namespace

bool is_ip_address(const std::string& text) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buf) == 1
         || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

caf::expected<round_plan> parse_initiate_body(std::string_view body,
                                              size_t max_pods) {
  // The parser keeps only the last of duplicate keys; the callback sees
  // each one, so a duplicate pod is an error rather than a lost pod.
  std::unordered_set<std::string> keys;
  std::string duplicate;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key && duplicate.empty()
        && !keys.insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  json doc;
  try {
    doc = json::parse(body.begin(), body.end(), on_event);
  } catch (const json::parse_error& ex) {
    return make_error(errc::bad_input,
                      std::string{"body is not valid JSON: "} + ex.what());
  }
  if (!doc.is_object())
    return make_error(errc::bad_input,
                      std::string{"body must be a JSON object mapping pod IPs "
                                  "to connection arrays, got "}
                        + doc.type_name());
  if (!duplicate.empty())
    return make_error(errc::bad_input,
                      "pod " + json_string(duplicate) + " appears more than once");
  if (doc.size() > max_pods)
    return make_error(errc::too_large,
                      "body names " + std::to_string(doc.size())
                        + " pods; the limit is " + std::to_string(max_pods)
                        + " (--max-pods)");
  round_plan plan;
  plan.pods.reserve(doc.size());
  for (auto& [ip, connections] : doc.items()) {
    if (!is_ip_address(ip))
      return make_error(errc::bad_input,
                        "key " + json_string(ip)
                          + " is not a pod IP address (IPv4 or IPv6)");
    if (!connections.is_array())
      return make_error(errc::bad_input,
                        "pod " + json_string(ip)
                          + ": value must be an array of connections, got "
                          + connections.type_name());
    for (size_t i = 0; i < connections.size(); ++i) {
      auto problem = check_connection(connections[i]);
      if (!problem.empty())
        return make_error(errc::bad_input, "pod " + json_string(ip)
                                             + ": connection "
                                             + std::to_string(i) + ": "
                                             + problem);
    }
    pod_plan pod;
    pod.ip = ip;
    pod.connection_count = static_cast<uint32_t>(connections.size());
    pod.connections = shared_bytes{connections.dump()};
    plan.pods.push_back(std::move(pod));
  }
  return plan;
}

} // namespace netpol
