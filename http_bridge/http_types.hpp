// What a route sees of an HTTP request and what it answers: plain data, so
// routes are independent of the server library (http_bridge/front.cpp,
// http_bridge/session.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netpol {

struct http_request {
  std::string method;                       // "GET", "POST", ...
  std::string path;                         // "/status", without the query
  std::map<std::string, std::string> query; // percent-decoded parameters
  std::string body;

  bool has_param(const std::string& name) const {
    return query.count(name) > 0;
  }

  std::string param(const std::string& name) const {
    auto i = query.find(name);
    return i == query.end() ? std::string{} : i->second;
  }
};

/// A body written piece by piece (GET /results): its size is known up
/// front, its pieces are views into memory the stream keeps alive.
class body_stream {
public:
  virtual ~body_stream() = default;

  /// Exact byte count of the whole body.
  virtual uint64_t size() const = 0;

  /// Appends the next pieces, about `max_bytes` in all, to `out`. The views
  /// stay valid until the next call. False once everything was handed out.
  virtual bool next(std::vector<std::string_view>& out, size_t max_bytes) = 0;
};

struct http_reply {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::shared_ptr<body_stream> stream; // when set, the body is streamed
};

/// `/status?pods=1&x=%2F` split into path and decoded parameters; false for
/// a target that is not an origin-form path.
bool parse_target(std::string_view target, std::string& path,
                  std::map<std::string, std::string>& query);

} // namespace netpol
