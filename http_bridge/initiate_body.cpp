#include "http_bridge/initiate_body.hpp"

#include "actors/completeness.hpp"
#include "messages/error.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <unordered_set>

namespace netpol {

namespace {

using json = nlohmann::json;

std::string json_string(const std::string& text) {
  return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Appends `text` as a JSON string. The parser has already checked it is
/// UTF-8, and nearly every string in a body (addresses, policy names, keys)
/// needs no escape: quoting those directly, rather than through a json value
/// and its serializer, halved the time to read a 34 MB body.
void append_json_string(std::string& out, const std::string& text) {
  auto needs_escape = [](unsigned char c) {
    return c < 0x20 || c == '"' || c == '\\';
  };
  if (std::any_of(text.begin(), text.end(), needs_escape)) {
    out += json_string(text);
    return;
  }
  out += '"';
  out += text;
  out += '"';
}

/// Validates an /initiate body in one SAX pass and writes each pod's
/// connection array, compact, as it goes: no DOM of what can be hundreds of
/// megabytes. Depths: 1 the top object, 2 a pod's array, 3 a connection
/// object, 4 a known field's array, deeper only inside unknown fields.
class initiate_sax : public json::json_sax_t {
public:
  initiate_sax(size_t max_pods, const pod_address_policy& allowed)
    : max_pods_(max_pods), allowed_(allowed) {
  }

  round_plan plan;
  caf::error error;

  bool null() override {
    return scalar("null", "null");
  }
  bool boolean(bool val) override {
    return scalar("boolean", val ? "true" : "false");
  }
  bool number_integer(number_integer_t val) override {
    return integer(val, std::to_string(val));
  }
  bool number_unsigned(number_unsigned_t val) override {
    return integer(val <= 65535 ? static_cast<int64_t>(val) : -1,
                   std::to_string(val));
  }
  bool number_float(number_float_t, const string_t& text) override {
    if (depth_ == 4 && field_ == "ports")
      return fail_port(text);
    return scalar("number", text);
  }
  bool string(string_t& val) override {
    if (depth_ == 4 && field_ == "ports")
      return fail_port(json_string(val));
    if (depth_ == 3 && field_ == "addresses")
      return fail_connection("\"addresses\" must be an array of strings");
    if (depth_ == 3 && field_ == "ports")
      return fail_connection("\"ports\" must be an array of integers");
    if (depth_ == 3 && field_ == "netpol") {
      have_netpol_ = true;
      netpol_ = val;
    }
    if (depth_ == 4 && field_ == "addresses") {
      if (!plain_json_text(val)
          || std::find(addresses_.begin(), addresses_.end(), val)
               != addresses_.end())
        canonical_ = false;
      addresses_.push_back(val);
    }
    return string_value(val);
  }
  bool binary(binary_t&) override {
    return fail(make_error(errc::bad_input, "unexpected binary value"));
  }
  bool start_object(std::size_t) override {
    switch (depth_) {
      case 0:
        break;
      case 1:
        return fail_pod_value("object");
      case 2:
        have_addresses_ = have_ports_ = have_netpol_ = false;
        keys_seen_ = 0;
        addresses_.clear();
        ports_.clear();
        netpol_.clear();
        separate();
        out() += '{';
        first_ = true;
        break;
      case 3:
        if (!known_field_container_ok())
          return false;
        [[fallthrough]];
      default:
        if (!element_container_ok("object"))
          return false;
        separate();
        out() += '{';
        first_ = true;
    }
    ++depth_;
    return true;
  }
  bool key(string_t& val) override {
    if (depth_ == 1) {
      if (!keys_.insert(val).second)
        return fail(make_error(errc::bad_input, "pod " + json_string(val)
                                                  + " appears more than once"));
      if (!is_ip_address(val))
        return fail(make_error(errc::bad_input,
                               "key " + json_string(val)
                                 + " is not a pod IP address (IPv4 or IPv6)"));
      if (auto why = allowed_.refusal(val); !why.empty())
        return fail(make_error(errc::bad_input,
                               "pod " + json_string(val)
                                 + " is not an address the proxy calls: "
                                 + why));
      if (plan.pods.size() == max_pods_)
        return fail(make_error(errc::too_large,
                               "body names more than "
                                 + std::to_string(max_pods_)
                                 + " pods (--max-pods)"));
      pod_plan pod;
      pod.ip = val;
      plan.pods.push_back(std::move(pod));
      tests_.begin_pod();
      canonical_ = true;
      current_.clear();
      return true;
    }
    if (depth_ == 3) {
      field_ = val;
      // kube-burner's order, and nothing else: the list can be rebuilt
      // from its tests alone.
      static const char* const order[] = {"addresses", "ports", "netpol"};
      if (keys_seen_ >= 3 || val != order[keys_seen_])
        canonical_ = false;
      ++keys_seen_;
    }
    separate();
    append_json_string(out(), val);
    out() += ':';
    first_ = true; // the value follows the colon without a comma
    return true;
  }
  bool end_object() override {
    --depth_;
    if (depth_ == 2) {
      if (!have_addresses_)
        return fail_connection("\"addresses\" must be an array of strings");
      if (!have_ports_)
        return fail_connection("\"ports\" must be an array of integers");
      if (!have_netpol_)
        return fail_connection("\"netpol\" must be a string");
      if (keys_seen_ != 3 || !plain_json_text(netpol_))
        canonical_ = false;
      tests_.add_connection(netpol_, addresses_, ports_);
      ++connection_;
      field_.clear();
    }
    if (depth_ >= 2) {
      out() += '}';
      first_ = false;
    }
    return true;
  }
  bool start_array(std::size_t) override {
    switch (depth_) {
      case 0:
        return fail(make_error(errc::bad_input,
                               "body must be a JSON object mapping pod IPs "
                               "to connection arrays, got array"));
      case 1:
        connection_ = 0;
        current_ = "[";
        first_ = true;
        break;
      case 2:
        return fail_connection("must be an object, got array");
      case 3:
        if (field_ == "addresses")
          have_addresses_ = true;
        else if (field_ == "ports")
          have_ports_ = true;
        else if (field_ == "netpol")
          return fail_connection("\"netpol\" must be a string");
        element_ = 0;
        [[fallthrough]];
      default:
        if (!element_container_ok("array"))
          return false;
        separate();
        out() += '[';
        first_ = true;
    }
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    if (depth_ == 1) {
      current_ += ']';
      auto& pod = plan.pods.back();
      pod.connection_count = connection_;
      pod.connections = shared_bytes{std::move(current_)};
      // Same bodies, same digest: a retried /initiate is recognized.
      digest_ = (digest_ ^ std::hash<std::string_view>{}(pod.ip))
                * 1099511628211ull;
      digest_ = (digest_ ^ std::hash<std::string_view>{}(pod.connections.view()))
                * 1099511628211ull;
      pod.expected = tests_.end_pod(pod.tests);
      pod.canonical = canonical_;
      current_ = std::string{};
      return true;
    }
    out() += ']';
    first_ = false;
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    if (!error)
      error = make_error(errc::bad_input,
                         std::string{"body is not valid JSON: "} + ex.what());
    return false;
  }

  /// The plan, with the round's catalog and digest.
  round_plan finish() {
    plan.catalog.ptr = tests_.finish();
    plan.digest = digest_ ^ plan.pods.size();
    return std::move(plan);
  }

private:
  std::string& out() {
    return current_;
  }

  /// Writes the comma between siblings.
  void separate() {
    if (!first_)
      current_ += ',';
    first_ = false;
  }

  bool scalar(const char* type, const std::string& text) {
    if (!scalar_allowed(type, text))
      return false;
    separate();
    out() += text;
    return true;
  }

  /// Whether a scalar of `type` may stand here; `text` names it in errors.
  bool scalar_allowed(const char* type, const std::string& text) {
    switch (depth_) {
      case 0:
        return fail(make_error(errc::bad_input,
                               std::string{"body must be a JSON object "
                                           "mapping pod IPs to connection "
                                           "arrays, got "}
                                 + type));
      case 1:
        return fail_pod_value(type);
      case 2:
        return fail_connection(std::string{"must be an object, got "} + type);
      case 3:
        if (field_ == "addresses")
          return fail_connection("\"addresses\" must be an array of strings");
        if (field_ == "ports")
          return fail_connection("\"ports\" must be an array of integers");
        if (field_ == "netpol" && std::string_view{type} != "string")
          return fail_connection("\"netpol\" must be a string");
        break;
      case 4:
        if (field_ == "addresses" && std::string_view{type} != "string")
          return fail_connection("\"addresses\"[" + std::to_string(element_)
                                 + "] must be a string, got " + type);
        if (field_ == "ports")
          return fail_port(text);
        ++element_;
        break;
      default:
        break;
    }
    return true;
  }

  /// A string where a scalar may stand: checked like one, written directly.
  bool string_value(const std::string& val) {
    if (!scalar_allowed("string", val))
      return false;
    separate();
    append_json_string(out(), val);
    return true;
  }

  bool integer(int64_t value, const std::string& text) {
    if (depth_ == 4 && field_ == "ports") {
      if (value < 1 || value > 65535)
        return fail_port(text);
      ++element_;
      if (std::find(ports_.begin(), ports_.end(), value) != ports_.end())
        canonical_ = false;
      ports_.push_back(static_cast<uint16_t>(value));
      separate();
      out() += text;
      return true;
    }
    return scalar("number", text);
  }

  /// An object where a known field's value starts (depth 3).
  bool known_field_container_ok() {
    if (field_ == "addresses")
      return fail_connection("\"addresses\" must be an array of strings");
    if (field_ == "ports")
      return fail_connection("\"ports\" must be an array of integers");
    if (field_ == "netpol")
      return fail_connection("\"netpol\" must be a string");
    return true;
  }

  /// A container inside a known field's array (depth 4).
  bool element_container_ok(const char* type) {
    if (depth_ != 4)
      return true;
    if (field_ == "addresses")
      return fail_connection("\"addresses\"[" + std::to_string(element_)
                             + "] must be a string, got "
                             + std::string{type});
    if (field_ == "ports")
      return fail_port(type);
    return true;
  }

  bool fail_port(const std::string& text) {
    return fail_connection("\"ports\"[" + std::to_string(element_)
                           + "] must be an integer from 1 to 65535, got "
                           + text);
  }

  bool fail_pod_value(const char* type) {
    return fail(make_error(errc::bad_input,
                           "pod " + json_string(plan.pods.back().ip)
                             + ": value must be an array of connections, got "
                             + type));
  }

  bool fail_connection(const std::string& problem) {
    return fail(make_error(errc::bad_input,
                           "pod " + json_string(plan.pods.back().ip)
                             + ": connection " + std::to_string(connection_)
                             + ": " + problem));
  }

  bool fail(caf::error err) {
    if (!error)
      error = std::move(err);
    return false;
  }

  size_t max_pods_;
  const pod_address_policy& allowed_;
  size_t depth_ = 0;
  std::unordered_set<std::string> keys_;
  std::string current_; // the pod array being written
  bool first_ = true;   // no sibling written yet at this level
  std::string field_;   // the connection field being read (depth 3)
  bool have_addresses_ = false;
  bool have_ports_ = false;
  bool have_netpol_ = false;
  uint32_t connection_ = 0; // index within the pod's array
  // The connection being read, for its expected tests.
  std::vector<std::string> addresses_;
  std::vector<uint16_t> ports_;
  std::string netpol_;
  size_t keys_seen_ = 0;  // keys of the connection object so far
  bool canonical_ = true; // the pod's list so far is kube-burner's form
  expected_tests_builder tests_;
  uint64_t digest_ = 14695981039346656037ull;
  size_t element_ = 0;      // index within addresses or ports
};

} // namespace

bool is_ip_address(const std::string& text) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buf) == 1
         || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

caf::expected<round_plan>
parse_initiate_body(std::string_view body, size_t max_pods,
                    const pod_address_policy& allowed) {
  initiate_sax sax{max_pods, allowed};
  if (!json::sax_parse(body.begin(), body.end(), &sax)) {
    if (sax.error)
      return std::move(sax.error);
    return make_error(errc::bad_input, "body is not valid JSON");
  }
  return sax.finish();
}

} // namespace netpol
