// Every endpoint of the proxy. Each handler parses its input, sends one
// message to the coordinator, and translates the reply; no run state lives
// here. The table in the constructor reads like the README's endpoint table.
#pragma once

#include "http_bridge/front.hpp"
#include "http_bridge/options.hpp"
#include "messages/interfaces.hpp"

#include <caf/actor_system.hpp>

#include <functional>
#include <string>
#include <vector>

namespace netpol {

class routes : public request_router {
public:
  using counters_fn = std::function<front_counters()>;

  routes(caf::actor_system& sys, coordinator_actor coordinator,
         const bridge_settings& settings, counters_fn front_counters);

  route_info lookup(std::string_view method,
                    std::string_view path) const override;

  http_reply handle(http_request& request) const override;

  void refused(const std::string& path, int status,
               const std::string& message) const override;

private:
  using handler = http_reply (routes::*)(http_request&) const;

  struct endpoint {
    std::string path;
    std::vector<std::string> methods;
    lane which;
    bool takes_body;
    handler answer;
  };

  const endpoint* find(std::string_view path) const;

  http_reply initiate(http_request& request) const;
  http_reply check_connections_status(http_request& request) const;
  http_reply check_stop_status(http_request& request) const;
  http_reply stop(http_request& request) const;
  http_reply results(http_request& request) const;
  http_reply status(http_request& request) const;
  http_reply report(http_request& request) const;
  http_reply metrics(http_request& request) const;
  http_reply probe(http_request& request) const;
  http_reply page(http_request& request) const;
  http_reply page_settings(http_request& request) const;

  caf::actor_system& sys_;
  coordinator_actor coordinator_;
  bridge_settings settings_;
  counters_fn front_counters_;
  std::vector<endpoint> table_;
};

} // namespace netpol
