// A proxy in this process (coordinator, detached workers with the real HTTP
// pod client, the HTTP bridge on 127.0.0.1) plus a simulated client-pod
// fleet on 127.x.y.z, and a kube-burner-like HTTP client to drive them.
#pragma once

#include "http_bridge/options.hpp"
#include "http_bridge/proxy.hpp"
#include "podsim/fleet.hpp"

#include <caf/actor_system.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace netpol::test {

struct proxy_fixture {
  proxy_options options;
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  coordinator_actor coordinator;
  pod_call_canceller_ptr canceller = std::make_shared<pod_call_canceller>();
  std::unique_ptr<proxy_server> server;
  std::thread serving;
  uint16_t port = 0;
  std::unique_ptr<podsim::fleet> fleet;
  std::vector<podsim::pod_spec> pods;

  proxy_fixture();
  ~proxy_fixture();

  /// Starts a fleet of these pods on a free port, then the proxy pointed at
  /// that port.
  void start(std::vector<podsim::pod_spec> fleet_pods);

  /// Starts the proxy alone, for pods at options.settings.client_port.
  void start_proxy();

  /// A fresh client for the proxy, as kube-burner would use.
  httplib::Client client() const;

  /// The /initiate body for the fleet: `per_pod` connections per pod.
  nlohmann::json initiate_body(size_t per_pod = 2) const;

  /// The /initiate body for some of the fleet's pods (one connection each):
  /// a fleet can serve several rounds when each round names other pods.
  std::string initiate_body_for(const std::vector<podsim::pod_spec>& group) const;

  /// GETs `path` every 20ms until its JSON has "result": true (at most
  /// `limit`); returns the last body.
  nlohmann::json poll_until_done(const std::string& path,
                                 std::chrono::seconds limit
                                 = std::chrono::seconds(60));

  /// GET a path and parse the JSON body; fails the test on transport errors.
  std::pair<int, nlohmann::json> get_json(const std::string& path);

  const podsim::pod_report& report_of(const std::vector<podsim::pod_report>& all,
                                      const std::string& ip) const;
};

/// A raw TCP connection to the proxy, for requests no HTTP client sends.
/// Reads wait at most 5 s, so a test never hangs on a silent server.
class raw_connection {
public:
  explicit raw_connection(uint16_t port);
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  bool send(std::string_view bytes);

  /// Half-closes: the server sees the end of the request.
  void finish_sending();

  /// One HTTP response (head and Content-Length body), or what came before
  /// the server closed: the server may keep the connection open after it.
  std::string receive_response();

  /// Everything the server sends until it closes (or 5 s pass).
  std::string receive_all();

  /// True once the server has closed (a read returns end of stream).
  bool closed_by_server();

private:
  int fd_ = -1;
};

/// The status of an answer, or -1 when none came. A copy: CHECK macros
/// bind references, and a temporary Result dies before they compare.
inline int http_status(const httplib::Result& res) {
  return res ? res->status : -1;
}

/// Specs for `count` pods from `first`, all with `kind`.
std::vector<podsim::pod_spec> pods_with(podsim::fault kind, size_t count,
                                        std::string_view first);

} // namespace netpol::test
