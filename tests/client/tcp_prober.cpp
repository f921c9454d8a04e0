#define CAF_SUITE tcp_prober

#include "client/tcp_prober.hpp"

#include "support/test.hpp"

#include <boost/asio.hpp>

#include <map>
#include <optional>

using namespace netpol::client;
using namespace std::chrono_literals;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using wall = std::chrono::system_clock;

namespace {

/// What the prober reported, probe by probe.
struct recorder final : probe_events {
  struct outcome {
    bool connected = false;
    std::optional<wall::time_point> succeeded;
    std::optional<probe_failure> failed;
    int reports = 0;
  };
  void probe_connected(probe_id id) override {
    seen[id].connected = true;
  }
  void probe_succeeded(probe_id id, wall::time_point at) override {
    seen[id].succeeded = at;
    ++seen[id].reports;
  }
  void probe_failed(probe_id id, probe_failure why) override {
    seen[id].failed = why;
    ++seen[id].reports;
  }
  std::map<probe_id, outcome> seen;
};

/// A loopback server that answers every connection with `answer` (after
/// the request), or says nothing when `answer` is empty.
struct loopback_server {
  loopback_server(net::io_context& io, std::string answer)
    : acceptor(io, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}),
      answer(std::move(answer)) {
    accept();
  }
  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec,
                                 tcp::socket s) {
      if (ec)
        return;
      auto socket = std::make_shared<tcp::socket>(std::move(s));
      connections.push_back(socket);
      auto buffer = std::make_shared<std::array<char, 1024>>();
      socket->async_read_some(net::buffer(*buffer),
                              [this, socket, buffer](auto ec, size_t) {
                                if (!ec && !answer.empty())
                                  net::write(*socket, net::buffer(answer), ec);
                              });
      accept();
    });
  }
  probe_target target() const {
    return probe_target{"127.0.0.1", acceptor.local_endpoint().port(), {}};
  }
  tcp::acceptor acceptor;
  std::string answer;
  std::vector<std::shared_ptr<tcp::socket>> connections;
};

/// Runs `io` until `done` or two seconds have passed.
template <class Done>
void run_until(net::io_context& io, Done done) {
  auto until = std::chrono::steady_clock::now() + 2s;
  while (!done() && std::chrono::steady_clock::now() < until)
    io.run_for(5ms);
}

} // namespace

TEST(answer heads as the HTTP client of Go reads them) {
  CHECK_EQUAL(read_answer_head("HTTP/1.1 200 OK\r\n\r\n").status, 200);
  CHECK(read_answer_head("HTTP/1.1 200 OK\r\n\r\n").header_complete);
  CHECK(read_answer_head("HTTP/1.0 200\r\nA: b\r\n\r\n").header_complete);
  CHECK(read_answer_head("HTTP/1.1 200 OK\nA: b\n\n").header_complete);
  MESSAGE("the status line alone is not the whole header");
  auto partial = read_answer_head("HTTP/1.1 200 OK\r\nServer: x\r\n");
  CHECK(partial.status_line_seen);
  CHECK(!partial.header_complete);
  CHECK(!read_answer_head("HTTP/1.1 20").status_line_seen);
  CHECK_EQUAL(read_answer_head("HTTP/1.1 404 Not Found\r\n\r\n").status, 404);
  for (auto bad : {"SSH-2.0-OpenSSH\r\n", "HTTP/1.1 2000 OK\r\n",
                   "HTTP/11 200 OK\r\n", "HTTP/1.1 20x OK\r\n", "\r\n"})
    CHECK(read_answer_head(bad).malformed);
  CHECK(read_answer_head(std::string(20000, 'x'), 16384).malformed);
}

TEST(a 200 is a success timed as its status line arrives) {
  net::io_context io;
  loopback_server server{io, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
  tcp_prober prober{io};
  recorder events;
  auto before = wall::now();
  prober.start(1, server.target(), events);
  CHECK(events.seen.empty()); // nothing reported from inside start()
  run_until(io, [&] { return events.seen[1].reports > 0; });
  auto after = wall::now();
  REQUIRE(events.seen[1].succeeded);
  CHECK(events.seen[1].connected);
  CHECK(*events.seen[1].succeeded >= before);
  CHECK(*events.seen[1].succeeded <= after);
  CHECK_EQUAL(prober.open(), 0u);
}

TEST(refusals and other answers are failures of their kind) {
  net::io_context io;
  tcp_prober prober{io};
  recorder events;
  MESSAGE("a closed port: refused");
  uint16_t closed_port;
  {
    tcp::acceptor probe_port{io, tcp::endpoint{tcp::v4(), 0}};
    closed_port = probe_port.local_endpoint().port();
  }
  prober.start(1, probe_target{"127.0.0.1", closed_port, {}}, events);
  loopback_server not_found{io, "HTTP/1.1 404 Not Found\r\n\r\n"};
  prober.start(2, not_found.target(), events);
  loopback_server garbage{io, "SSH-2.0-OpenSSH_9.2\r\n"};
  prober.start(3, garbage.target(), events);
  loopback_server hangs_up{io, "HTTP/1.1 200 OK\r\n"}; // then closes
  prober.start(4, hangs_up.target(), events);
  run_until(io, [&] {
    return events.seen[1].reports && events.seen[2].reports
           && events.seen[3].reports && events.seen[4].connected;
  });
  CHECK(events.seen[1].failed == probe_failure::refused);
  CHECK(!events.seen[1].connected);
  CHECK(events.seen[2].failed == probe_failure::not_ok);
  CHECK(events.seen[3].failed == probe_failure::bad_response);
  MESSAGE("a status line without the rest of the header is not a success");
  hangs_up.connections.clear(); // the server closes its side
  run_until(io, [&] { return events.seen[4].reports > 0; });
  CHECK(events.seen[4].failed == probe_failure::closed);
  for (auto& [id, o] : events.seen)
    CHECK_EQUAL(o.reports, 1);
}

TEST(an abandoned probe reports nothing and frees its socket) {
  net::io_context io;
  loopback_server silent{io, ""};
  tcp_prober prober{io};
  recorder events;
  prober.start(7, silent.target(), events);
  run_until(io, [&] { return events.seen[7].connected; });
  REQUIRE(events.seen[7].connected);
  CHECK_EQUAL(prober.open(), 1u);
  prober.abandon(7);
  CHECK_EQUAL(prober.open(), 0u);
  io.run_for(50ms);
  CHECK_EQUAL(events.seen[7].reports, 0);
  MESSAGE("a host name that does not resolve: no_address");
  prober.start(8, probe_target{"no-such-host.invalid", 80, {}}, events);
  run_until(io, [&] { return events.seen[8].reports > 0; });
  CHECK(events.seen[8].failed == probe_failure::no_address);
}
