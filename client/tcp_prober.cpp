#include "client/tcp_prober.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <string>

namespace netpol::client {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

/// A byte count that no header of a sane target's `GET /` reaches.
constexpr size_t max_head_bytes = 16384;

probe_failure connect_failure(const error_code& ec) {
  if (ec == net::error::connection_refused)
    return probe_failure::refused;
  if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space
      || ec == net::error::address_in_use
      || ec == net::error::no_memory)
    return probe_failure::local_error;
  return probe_failure::unreachable;
}

} // namespace

answer_head read_answer_head(std::string_view head, size_t limit) {
  answer_head out;
  auto line_end = head.find('\n');
  if (line_end == std::string_view::npos) {
    out.malformed = head.size() > limit;
    return out;
  }
  auto line = head.substr(0, line_end);
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  out.status_line_seen = true;
  // HTTP/1.1 and HTTP/1.0, or HTTP/X.Y with one digit each (Go's
  // ParseHTTPVersion); then a space and three digits, then a space or the
  // end (Go takes the first three characters after the space).
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  bool version_ok = line.size() >= 12 && line.substr(0, 5) == "HTTP/"
                    && digit(line[5]) && line[6] == '.' && digit(line[7])
                    && line[8] == ' ';
  if (!version_ok || !digit(line[9]) || !digit(line[10]) || !digit(line[11])
      || (line.size() > 12 && line[12] != ' ')) {
    out.malformed = true;
    return out;
  }
  out.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  auto rest = head.substr(line_end + 1);
  out.header_complete = rest.substr(0, 1) == "\n" || rest.substr(0, 2) == "\r\n"
                        || rest.find("\n\n") != std::string_view::npos
                        || rest.find("\n\r\n") != std::string_view::npos;
  if (!out.header_complete && head.size() > limit)
    out.malformed = true;
  return out;
}

struct tcp_prober::probe : std::enable_shared_from_this<probe> {
  probe(tcp_prober& owner, probe_id id, probe_events& events)
    : owner(&owner), socket(owner.io_), id(id), events(&events) {
  }

  tcp_prober* owner;
  tcp::socket socket;
  probe_id id;
  probe_events* events; // null once abandoned or ended
  std::string request;
  std::string head;
  std::array<char, 2048> buffer{};
  std::chrono::system_clock::time_point status_at{};
  bool connected = false;

  void resolve(const probe_target& target);
  void connect(const tcp::endpoint& endpoint);
  void send();
  void read();
  void on_read(const error_code& ec, size_t n);
  void end_with(probe_failure why);
  /// Closes the socket, forgets the probe and returns where to report.
  probe_events* finish();
  void close();
};

void tcp_prober::probe::resolve(const probe_target& target) {
  // Only for a host name: kube-burner sends pod IPs. getaddrinfo runs on
  // Asio's one resolver thread, once per probe as in the real client.
  auto resolver = std::make_shared<tcp::resolver>(owner->io_);
  resolver->async_resolve(
    target.address, std::to_string(target.port),
    [self = shared_from_this(), resolver](const error_code& ec,
                                          tcp::resolver::results_type found) {
      if (!self->events)
        return;
      if (ec || found.empty())
        self->end_with(probe_failure::no_address);
      else
        self->connect(found.begin()->endpoint());
    });
}

void tcp_prober::probe::connect(const tcp::endpoint& endpoint) {
  error_code ec;
  socket.open(endpoint.protocol(), ec);
  if (ec) {
    // Report from the loop, never from inside start().
    net::post(socket.get_executor(), [self = shared_from_this()] {
      if (self->events)
        self->end_with(probe_failure::local_error);
    });
    return;
  }
  socket.async_connect(endpoint,
                       [self = shared_from_this()](const error_code& ec) {
                         if (!self->events)
                           return;
                         if (ec) {
                           self->end_with(connect_failure(ec));
                           return;
                         }
                         self->connected = true;
                         self->events->probe_connected(self->id);
                         if (self->events) // not abandoned meanwhile
                           self->send();
                       });
}

void tcp_prober::probe::send() {
  net::async_write(socket, net::buffer(request),
                   [self = shared_from_this()](const error_code& ec, size_t) {
                     if (!self->events)
                       return;
                     if (ec)
                       self->end_with(probe_failure::closed);
                     else
                       self->read();
                   });
}

void tcp_prober::probe::read() {
  socket.async_read_some(net::buffer(buffer),
                         [self = shared_from_this()](const error_code& ec,
                                                     size_t n) {
                           self->on_read(ec, n);
                         });
}

void tcp_prober::probe::on_read(const error_code& ec, size_t n) {
  if (!events)
    return;
  bool status_was_seen = head.find('\n') != std::string::npos;
  head.append(buffer.data(), n);
  auto seen = read_answer_head(head, max_head_bytes);
  if (seen.status_line_seen && !status_was_seen)
    status_at = std::chrono::system_clock::now(); // as the line arrived
  if (seen.malformed) {
    end_with(probe_failure::bad_response);
  } else if (seen.header_complete) {
    auto* to = finish();
    if (seen.status == 200)
      to->probe_succeeded(id, status_at);
    else
      to->probe_failed(id, probe_failure::not_ok);
  } else if (ec) {
    end_with(probe_failure::closed);
  } else {
    read();
  }
}

void tcp_prober::probe::end_with(probe_failure why) {
  finish()->probe_failed(id, why);
}

probe_events* tcp_prober::probe::finish() {
  auto* to = events;
  events = nullptr;
  close();
  owner->probes_.erase(id); // the handler running holds this probe
  return to;
}

void tcp_prober::probe::close() {
  error_code ignored;
  if (connected) {
    // A reset rather than FIN and TIME_WAIT: a probe's connection carries
    // nothing worth closing gracefully, and a probe every 100 ms would
    // otherwise leave hundreds of sockets in TIME_WAIT.
    socket.set_option(net::socket_base::linger(true, 0), ignored);
  }
  socket.close(ignored);
}

tcp_prober::tcp_prober(net::io_context& io) : io_(io) {
}

tcp_prober::~tcp_prober() {
  for (auto& [id, p] : probes_) {
    p->events = nullptr;
    p->close();
  }
}

void tcp_prober::start(probe_id id, const probe_target& target,
                       probe_events& events) {
  auto p = std::make_shared<probe>(*this, id, events);
  probes_.emplace(id, p);
  bool v6 = target.address.find(':') != std::string::npos;
  p->request = "GET / HTTP/1.1\r\nHost: "
               + (v6 ? "[" + target.address + "]" : target.address) + ":"
               + std::to_string(target.port)
               + "\r\nUser-Agent: netpol-client\r\nConnection: close\r\n\r\n";
  error_code ec;
  auto address = net::ip::make_address(target.address, ec);
  if (ec)
    p->resolve(target);
  else
    p->connect(tcp::endpoint{address, target.port});
}

void tcp_prober::abandon(probe_id id) {
  auto i = probes_.find(id);
  if (i == probes_.end())
    return;
  i->second->events = nullptr;
  i->second->close();
  probes_.erase(i);
}

} // namespace netpol::client
