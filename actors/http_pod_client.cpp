#include "actors/http_pod_client.hpp"

#include <httplib.h>

#include <chrono>

namespace netpol {

namespace {

bool is_ipv6(const std::string& ip) {
  return ip.find(':') != std::string::npos;
}

std::string host_port(const std::string& ip, uint16_t port) {
  auto host = is_ipv6(ip) ? "[" + ip + "]" : ip;
  return host + ":" + std::to_string(port);
}

std::string describe(caf::timespan x) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(x).count();
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

} // namespace

std::string pod_url(const std::string& ip, uint16_t port,
                    std::string_view path) {
  return "http://" + host_port(ip, port) + std::string{path};
}

http_pod_client::http_pod_client(const proxy_settings& settings)
  : port_(settings.client_port),
    connect_timeout_(settings.connect_timeout),
    request_timeout_(settings.request_timeout),
    max_response_bytes_(settings.max_response_bytes) {
}

pod_outcome http_pod_client::post_check(const std::string& ip,
                                        std::string_view connections) {
  return call(ip, "POST", "/check", connections);
}

pod_outcome http_pod_client::get_results(const std::string& ip) {
  return call(ip, "GET", "/results", {});
}

pod_outcome http_pod_client::call(const std::string& ip, const char* method,
                                  const char* path, std::string_view body) {
  using clock = std::chrono::steady_clock;
  auto started = clock::now();
  auto deadline = started + connect_timeout_ + request_timeout_;
  // httplib resolves the bare address; the Host header needs brackets.
  httplib::Client cli{ip, port_};
  cli.set_connection_timeout(connect_timeout_);
  cli.set_read_timeout(request_timeout_);
  cli.set_write_timeout(request_timeout_);
  cli.set_tcp_nodelay(true);
  cli.set_keep_alive(false);
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.set_header("Host", host_port(ip, port_));
  if (req.method == "POST") {
    req.body.assign(body.data(), body.size());
    req.set_header("Content-Type", "application/json");
  }
  std::string answer;
  bool too_large = false;
  // Bounds the answer in size and in total time: a pod that trickles an
  // endless body would otherwise pass every per-read timeout.
  req.content_receiver = [&](const char* data, size_t size, uint64_t,
                             uint64_t) {
    if (answer.size() + size > max_response_bytes_) {
      too_large = true;
      return false;
    }
    if (clock::now() > deadline)
      return false;
    answer.append(data, size);
    return true;
  };
  httplib::Response res;
  auto err = httplib::Error::Success;
  bool sent = cli.send(req, res, err);
  pod_outcome out;
  out.elapsed = clock::now() - started;
  if (!sent) {
    switch (err) {
      case httplib::Error::Connection:
        out.status = call_status::refused;
        out.detail = "connection refused or unreachable";
        break;
      case httplib::Error::ConnectionTimeout:
        out.status = call_status::timeout;
        out.detail = "no connection within " + describe(connect_timeout_);
        break;
      case httplib::Error::Canceled:
        if (too_large) {
          out.status = call_status::too_large;
          out.detail = "answer larger than "
                       + std::to_string(max_response_bytes_) + " bytes";
        } else {
          out.status = call_status::timeout;
          out.detail = "answer not complete within "
                       + describe(connect_timeout_ + request_timeout_);
        }
        break;
      case httplib::Error::Read:
        // httplib reports a read timeout and a closed connection alike; the
        // clock tells them apart.
        if (out.elapsed >= request_timeout_ * 9 / 10) {
          out.status = call_status::timeout;
          out.detail = "no answer within " + describe(request_timeout_);
        } else {
          out.status = call_status::reset;
          out.detail = "connection closed before an answer";
        }
        break;
      case httplib::Error::Write:
        out.status = call_status::reset;
        out.detail = "connection reset while sending";
        break;
      default:
        out.status = call_status::reset;
        out.detail = httplib::to_string(err);
    }
    return out;
  }
  out.http_status = static_cast<uint16_t>(res.status);
  if (res.status < 200 || res.status > 299) {
    out.status = call_status::http_error;
    auto excerpt = answer.substr(0, 200);
    while (!excerpt.empty()
           && (excerpt.back() == '\n' || excerpt.back() == '\r'))
      excerpt.pop_back();
    out.detail = "HTTP " + std::to_string(res.status)
                 + (excerpt.empty() ? "" : ": " + excerpt);
    return out;
  }
  out.status = call_status::ok;
  out.body = shared_bytes{std::move(answer)};
  return out;
}

} // namespace netpol
