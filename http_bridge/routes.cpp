#include "http_bridge/routes.hpp"

#include "http_bridge/initiate_body.hpp"
#include "http_bridge/metrics_text.hpp"
#include "http_bridge/page_assets.hpp"
#include "http_bridge/status_map.hpp"
#include "http_bridge/wire.hpp"
#include "messages/error.hpp"

#include <caf/scoped_actor.hpp>

namespace netpol {

namespace {

/// One request/reply with the coordinator from a handler thread. Sent as
/// urgent so a poll does not queue behind the workers' replies
/// waiting in its mailbox.
template <class T, class... Ts>
caf::expected<T> ask(caf::actor_system& sys, const coordinator_actor& coord,
                     caf::timespan timeout, Ts&&... xs) {
  caf::expected<T> result = make_error(errc::unavailable);
  caf::scoped_actor self{sys};
  self
    ->template request<caf::message_priority::high>(coord, timeout,
                                                    std::forward<Ts>(xs)...)
    .receive([&](T& value) { result = std::move(value); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

http_reply json_reply(int status, std::string body) {
  http_reply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

http_reply error_reply(const caf::error& err) {
  return json_reply(http_status_of(err),
                    error_json(error_code_of(err), detail_of(err)));
}

/// Query flags such as ?pods=1: present and not 0/false.
bool flag(const http_request& request, const char* name) {
  if (!request.has_param(name))
    return false;
  auto value = request.param(name);
  return value != "0" && value != "false";
}

/// Streams GET /results from the results_writer.
class results_stream : public body_stream {
public:
  explicit results_stream(results_snapshot snapshot)
    : writer_(std::move(snapshot)) {
  }

  uint64_t size() const override {
    return writer_.size();
  }

  bool next(std::vector<std::string_view>& out, size_t max_bytes) override {
    return writer_.next(out, max_bytes);
  }

private:
  results_writer writer_;
};

} // namespace

routes::routes(caf::actor_system& sys, coordinator_actor coordinator,
               const bridge_settings& settings, counters_fn front_counters)
  : sys_(sys),
    coordinator_(std::move(coordinator)),
    settings_(settings),
    front_counters_(std::move(front_counters)) {
  // kube-burner's calls and the probes have threads of their own.
  auto kb = lane::kube_burner;
  auto ops = lane::operators;
  table_ = {
    {"/initiate", {"POST"}, kb, true, &routes::initiate},
    {"/checkConnectionsStatus", {"GET"}, kb, false,
     &routes::check_connections_status},
    {"/stop", {"GET", "POST"}, kb, false, &routes::stop},
    {"/checkStopStatus", {"GET"}, kb, false, &routes::check_stop_status},
    {"/results", {"GET"}, kb, false, &routes::results},
    {"/status", {"GET"}, ops, false, &routes::status},
    {"/report", {"GET"}, ops, false, &routes::report},
    {"/metrics", {"GET"}, ops, false, &routes::metrics},
    {"/healthz", {"GET"}, kb, false, &routes::probe},
    {"/readyz", {"GET"}, kb, false, &routes::probe},
    {"/ui/settings", {"GET"}, ops, false, &routes::page_settings},
  };
  // The live page and its assets (GET /).
  for (size_t i = 0; i < page_asset_count; ++i)
    table_.push_back({page_assets[i].path, {"GET"}, ops, false, &routes::page});
}

const routes::endpoint* routes::find(std::string_view path) const {
  for (auto& e : table_)
    if (e.path == path)
      return &e;
  return nullptr;
}

route_info routes::lookup(std::string_view method,
                          std::string_view path) const {
  route_info info;
  auto e = find(path);
  if (!e)
    return info;
  info.found = true;
  info.which = e->which;
  info.takes_body = e->takes_body;
  for (auto& m : e->methods) {
    info.allow += (info.allow.empty() ? "" : ", ") + m;
    if (m == method)
      info.allowed = true;
  }
  return info;
}

http_reply routes::handle(http_request& request) const {
  auto e = find(request.path);
  if (!e)
    return json_reply(404, error_json("not_found",
                                      "no endpoint " + request.path));
  return (this->*(e->answer))(request);
}

void routes::refused(const std::string& path, int status,
                     const std::string& message) const {
  if (path == "/initiate")
    caf::anon_send(coordinator_, refused_atom_v, static_cast<uint16_t>(status),
                   message);
}

http_reply routes::initiate(http_request& request) const {
  auto plan = parse_initiate_body(request.body, settings_.max_pods,
                                  settings_.allowed_pods);
  request.body = std::string{}; // the plan holds what is needed now
  if (!plan) {
    auto reply = error_reply(plan.error());
    refused(request.path, reply.status, detail_of(plan.error()));
    return reply;
  }
  auto status = ask<round_status>(sys_, coordinator_, settings_.reply_timeout,
                                  initiate_atom_v, std::move(*plan));
  if (!status)
    return error_reply(status.error());
  return json_reply(200, poll_json(*status, status->delivery_done()));
}

/// A poll (/checkConnectionsStatus, /checkStopStatus): kube-burner decodes
/// "result" and nothing else.
http_reply poll_reply(const caf::expected<round_status>& status,
                      bool collection) {
  if (!status)
    return error_reply(status.error());
  if (!status->refusal.empty())
    return json_reply(409, refused_poll_json(status->refusal));
  return json_reply(200, poll_json(*status, collection
                                              ? status->collection_done()
                                              : status->delivery_done()));
}

http_reply routes::check_connections_status(http_request&) const {
  return poll_reply(ask<round_status>(sys_, coordinator_,
                                      settings_.reply_timeout, poll_atom_v),
                    false);
}

http_reply routes::check_stop_status(http_request&) const {
  return poll_reply(ask<round_status>(sys_, coordinator_,
                                      settings_.reply_timeout, poll_atom_v),
                    true);
}

http_reply routes::stop(http_request&) const {
  // A body, if any, is ignored.
  auto status = ask<round_status>(sys_, coordinator_, settings_.reply_timeout,
                                  stop_atom_v);
  if (!status)
    return error_reply(status.error());
  return json_reply(200, poll_json(*status, status->collection_done()));
}

http_reply routes::results(http_request&) const {
  auto snapshot = ask<results_snapshot>(sys_, coordinator_,
                                        settings_.reply_timeout,
                                        results_atom_v);
  if (!snapshot)
    return error_reply(snapshot.error());
  // Range and other conditional headers are ignored: always the whole body.
  http_reply reply;
  reply.stream = std::make_shared<results_stream>(std::move(*snapshot));
  return reply;
}

http_reply routes::status(http_request& request) const {
  auto report = ask<status_report>(sys_, coordinator_, settings_.reply_timeout,
                                   status_atom_v, flag(request, "pods"));
  if (!report)
    return error_reply(report.error());
  return json_reply(200,
                    status_report_json(*report, flag(request, "timeline")));
}

http_reply routes::report(http_request& request) const {
  // ?all=1 lists every pod with a problem; ?netpols=N the N worst netpols.
  uint32_t max_netpols = 0;
  if (request.has_param("netpols")) {
    auto text = request.param("netpols");
    if (text.empty() || text.size() > 9
        || text.find_first_not_of("0123456789") != std::string::npos)
      return error_reply(make_error(errc::bad_input,
                                    "netpols must be a number of netpols "
                                    "(0 for all), got '"
                                      + text.substr(0, 40) + "'"));
    max_netpols = static_cast<uint32_t>(std::stoul(text));
  }
  if (request.has_param("all")) {
    auto all = request.param("all");
    if (all != "0" && all != "1" && all != "true" && all != "false")
      return error_reply(make_error(errc::bad_input,
                                    "all must be 1 or 0, got '"
                                      + all.substr(0, 40) + "'"));
  }
  auto result = ask<completeness_report>(sys_, coordinator_,
                                         settings_.reply_timeout,
                                         report_atom_v, flag(request, "all"),
                                         max_netpols);
  if (!result)
    return error_reply(result.error());
  return json_reply(200, completeness_json(*result));
}

http_reply routes::metrics(http_request&) const {
  auto metrics = ask<proxy_metrics>(sys_, coordinator_,
                                    settings_.reply_timeout, metrics_atom_v);
  if (!metrics)
    return error_reply(metrics.error());
  http_reply reply;
  reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
  reply.body = prometheus_text(*metrics, front_counters_(),
                               NETPOL_PROXY_VERSION);
  return reply;
}

http_reply routes::page(http_request& request) const {
  auto* asset = find_page_asset(request.path);
  if (!asset) // not reached: only assets' paths are routed here
    return json_reply(404, error_json("not_found", "no page " + request.path));
  http_reply reply;
  reply.content_type = asset->content_type;
  reply.headers.emplace_back("Cache-Control", asset->cache_control);
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.body = std::string{asset->body};
  return reply;
}

http_reply routes::page_settings(http_request&) const {
  http_reply reply = json_reply(200, settings_json(settings_.described));
  reply.headers.emplace_back("Cache-Control", "no-cache");
  return reply;
}

http_reply routes::probe(http_request&) const {
  // Liveness and readiness both ask the coordinator: a proxy whose
  // coordinator stopped answering can't serve kube-burner either.
  auto status = ask<round_status>(sys_, coordinator_, std::chrono::seconds(2),
                                  poll_atom_v);
  if (!status)
    return error_reply(status.error());
  return json_reply(200, "{\"status\":\"ok\",\"phase\":\""
                           + std::string{to_string(status->current)}
                           + "\"}\n");
}

} // namespace netpol
