#include "proxy_fixture.hpp"

#include "messages/register.hpp"
#include "support/test.hpp"

#include <caf/all.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace netpol::test {

using namespace std::chrono_literals;

proxy_fixture::proxy_fixture() {
  configure_logging("warn");
  // Short timeouts keep the faulty pods' rounds to seconds.
  auto& s = options.settings;
  s.workers = 8;
  s.connect_timeout = 500ms;
  s.request_timeout = 1s;
  s.retries = 2;
  s.backoff_base = 50ms;
  s.backoff_cap = 200ms;
  // These suites count each pod's calls and read /report before /stop as
  // 409: no sampling (on by default) unless a test sets its interval.
  s.sample_interval = 0s;
  options.bridge.front.max_body_bytes = 1 << 20;
  options.bridge.front.operator_threads = 8;
  options.bridge.reply_timeout = 5s;
}

proxy_fixture::~proxy_fixture() {
  if (server) {
    server->stop();
    serving.join();
  }
  canceller->cancel_all();
  if (coordinator)
    caf::anon_send_exit(coordinator, caf::exit_reason::user_shutdown);
  coordinator = nullptr;
  // Hung pods release the workers' calls when the fleet stops.
  if (fleet)
    fleet->stop();
  sys.reset();
}

void proxy_fixture::start(std::vector<podsim::pod_spec> fleet_pods) {
  pods = std::move(fleet_pods);
  podsim::fleet_options fleet_opts;
  fleet_opts.port = 0;
  fleet = std::make_unique<podsim::fleet>(fleet_opts, pods);
  std::string error;
  if (!fleet->start(error))
    CAF_FAIL("fleet failed to start: " << error);
  options.settings.client_port = fleet->port();
  start_proxy();
}

void proxy_fixture::start_proxy() {
  cfg = std::make_unique<caf::actor_system_config>();
  configure_actor_system(*cfg);
  sys = std::make_unique<caf::actor_system>(*cfg);
  coordinator = spawn_coordinator(*sys, options.settings, canceller);
  server = std::make_unique<proxy_server>(*sys, coordinator, options.bridge);
  auto bound = server->bind("127.0.0.1", 0);
  if (!bound)
    CAF_FAIL("proxy failed to bind: " << sys->render(bound.error()));
  port = *bound;
  serving = std::thread{[this] { server->listen(); }};
}

httplib::Client proxy_fixture::client() const {
  httplib::Client cli{"127.0.0.1", port};
  cli.set_connection_timeout(5s);
  cli.set_read_timeout(30s);
  cli.set_write_timeout(30s);
  return cli;
}

nlohmann::json proxy_fixture::initiate_body(size_t per_pod) const {
  auto body = nlohmann::json::object();
  for (size_t i = 0; i < pods.size(); ++i) {
    auto conns = nlohmann::json::array();
    for (size_t j = 0; j < per_pod; ++j)
      conns.push_back({{"addresses", {pods[(i + j + 1) % pods.size()].ip}},
                       {"ports", {8080, 9090}},
                       {"netpol", "ingress-" + std::to_string(j) + "-"
                                    + std::to_string(i)}});
    body[pods[i].ip] = conns;
  }
  return body;
}

std::string proxy_fixture::initiate_body_for(
  const std::vector<podsim::pod_spec>& group) const {
  auto whole = initiate_body(1);
  auto part = nlohmann::json::object();
  for (auto& spec : group)
    part[spec.ip] = whole[spec.ip];
  return part.dump();
}

std::pair<int, nlohmann::json>
proxy_fixture::get_json(const std::string& path) {
  auto cli = client();
  auto res = cli.Get(path.c_str());
  if (!res)
    CAF_FAIL("GET " << path << " failed: " << httplib::to_string(res.error()));
  return {res->status, nlohmann::json::parse(res->body)};
}

nlohmann::json proxy_fixture::poll_until_done(const std::string& path,
                                              std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto [status, body] = get_json(path);
    if (status != 200)
      CAF_FAIL(path << " answered " << status << ": " << body.dump());
    if (body.at("result").get<bool>())
      return body;
    if (std::chrono::steady_clock::now() > deadline)
      CAF_FAIL(path << " not done within " << limit.count()
                    << "s: " << body.dump());
    std::this_thread::sleep_for(20ms);
  }
}

const podsim::pod_report&
proxy_fixture::report_of(const std::vector<podsim::pod_report>& all,
                         const std::string& ip) const {
  for (auto& report : all)
    if (report.ip == ip)
      return report;
  CAF_FAIL("no pod " << ip << " in the fleet");
}

raw_connection::raw_connection(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    CAF_FAIL("cannot connect to the proxy");
  timeval tv{5, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

raw_connection::~raw_connection() {
  ::close(fd_);
}

bool raw_connection::send(std::string_view bytes) {
  return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL)
         == static_cast<ssize_t>(bytes.size());
}

void raw_connection::finish_sending() {
  ::shutdown(fd_, SHUT_WR);
}

std::string raw_connection::receive_response() {
  std::string result;
  char buf[4096];
  for (;;) {
    auto head_end = result.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      auto pos = result.find("Content-Length: ");
      size_t length = pos < head_end ? std::stoul(result.substr(pos + 16)) : 0;
      if (result.size() >= head_end + 4 + length)
        return result;
    }
    auto n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0)
      return result;
    result.append(buf, static_cast<size_t>(n));
  }
}

std::string raw_connection::receive_all() {
  std::string result;
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0)
      return result;
    result.append(buf, static_cast<size_t>(n));
  }
}

bool raw_connection::closed_by_server() {
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0)
      return true;
    if (n < 0)
      return errno == ECONNRESET;
  }
}

std::vector<podsim::pod_spec> pods_with(podsim::fault kind, size_t count,
                                        std::string_view first) {
  std::vector<podsim::pod_spec> result;
  for (auto& ip : podsim::loopback_addresses(count, first)) {
    podsim::pod_spec spec;
    spec.ip = ip;
    spec.profile.kind = kind;
    result.push_back(spec);
  }
  return result;
}

} // namespace netpol::test
