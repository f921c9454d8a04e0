#include "http_bridge/routes.hpp"

#include "http_bridge/initiate_body.hpp"
#include "http_bridge/metrics_text.hpp"
#include "http_bridge/status_map.hpp"
#include "http_bridge/wire.hpp"
#include "messages/error.hpp"

#include <caf/scoped_actor.hpp>
#include <httplib.h>

#include <map>
#include <set>

namespace netpol {

namespace {

/// One request/reply with the coordinator from an HTTP handler thread. Sent
/// as urgent so a status poll does not queue behind the workers'
/// replies waiting in its mailbox.
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

void reply_json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

void reply_error(httplib::Response& res, const caf::error& err) {
  reply_json(res, http_status_of(err),
             error_json(error_code_of(err), detail_of(err)));
}

/// Query flags such as ?pods=1: present and not 0/false.
bool flag(const httplib::Request& req, const char* name) {
  if (!req.has_param(name))
    return false;
  auto value = req.get_param_value(name);
  return value != "0" && value != "false";
}

const char* reason_code(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "too_large";
    case 414:
      return "uri_too_long";
    default:
      return status >= 500 ? "internal" : "error";
  }
}

} // namespace

void install_routes(httplib::Server& server, caf::actor_system& sys,
                    coordinator_actor coord, const bridge_settings& cfg) {
  auto timeout = cfg.reply_timeout;
  auto status_route = [&sys, coord, timeout](bool collection) {
    return [&sys, coord, timeout, collection](const httplib::Request&,
                                              httplib::Response& res) {
      auto status = ask<round_status>(sys, coord, timeout, status_atom_v);
      if (!status)
        return reply_error(res, status.error());
      bool done = collection ? status->collection_done()
                             : status->delivery_done();
      reply_json(res, 200, status_json(*status, done));
    };
  };
  auto max_pods = cfg.max_pods;
  auto max_body = cfg.max_body_bytes;
  // The content-reader form: httplib would otherwise parse bodies sent as
  // application/x-www-form-urlencoded (curl's default) and refuse them over
  // 8 KiB. We read the bytes ourselves, whatever the content type.
  server.Post("/initiate", [&sys, coord, timeout, max_pods, max_body](
                             const httplib::Request&, httplib::Response& res,
                             const httplib::ContentReader& read) {
    std::string body;
    bool too_large = false;
    bool complete = read([&](const char* data, size_t size) {
      if (body.size() + size > max_body) {
        too_large = true;
        return false;
      }
      body.append(data, size);
      return true;
    });
    // httplib enforces the same limit against Content-Length and says 413.
    if (too_large || res.status == 413)
      return reply_error(res, make_error(errc::too_large,
                                         "request body larger than "
                                           + std::to_string(max_body)
                                           + " bytes (--max-body)"));
    if (!complete)
      return reply_error(res, make_error(errc::bad_input,
                                         "the request body ended early"));
    auto plan = parse_initiate_body(body, max_pods);
    if (!plan)
      return reply_error(res, plan.error());
    auto status = ask<round_status>(sys, coord, timeout, initiate_atom_v,
                                    std::move(*plan));
    if (!status)
      return reply_error(res, status.error());
    reply_json(res, 200, status_json(*status, status->delivery_done()));
  });
  server.Get("/checkConnectionsStatus", status_route(false));
  server.Get("/checkStopStatus", status_route(true));
  auto stop = [&sys, coord, timeout](const httplib::Request&,
                                     httplib::Response& res) {
    auto status = ask<round_status>(sys, coord, timeout, stop_atom_v);
    if (!status)
      return reply_error(res, status.error());
    reply_json(res, 200, status_json(*status, status->collection_done()));
  };
  server.Get("/stop", stop);
  // A body, if any, is ignored and never read.
  server.Post("/stop", [stop](const httplib::Request& req,
                              httplib::Response& res,
                              const httplib::ContentReader&) { stop(req, res); });
  server.Get("/results", [&sys, coord, timeout](const httplib::Request&,
                                                httplib::Response& res) {
    auto snapshot = ask<results_snapshot>(sys, coord, timeout, results_atom_v);
    if (!snapshot)
      return reply_error(res, snapshot.error());
    auto writer = std::make_shared<results_writer>(std::move(*snapshot));
    auto size = writer->size();
    res.set_content_provider(
      size, "application/json",
      [writer](size_t, size_t, httplib::DataSink& sink) {
        bool ok = true;
        writer->next([&](std::string_view piece) {
          if (ok && !piece.empty())
            ok = sink.write(piece.data(), piece.size());
        });
        return ok;
      });
  });
  server.Get("/status", [&sys, coord, timeout](const httplib::Request& req,
                                               httplib::Response& res) {
    auto report = ask<round_report>(sys, coord, timeout, report_atom_v,
                                    flag(req, "pods"));
    if (!report)
      return reply_error(res, report.error());
    reply_json(res, 200, report_json(*report));
  });
  server.Get("/metrics", [&sys, coord, timeout](const httplib::Request&,
                                                httplib::Response& res) {
    auto metrics = ask<proxy_metrics>(sys, coord, timeout, metrics_atom_v);
    if (!metrics)
      return reply_error(res, metrics.error());
    res.set_content(prometheus_text(*metrics, NETPOL_PROXY_VERSION),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  // Liveness and readiness both ask the coordinator: a proxy whose
  // coordinator stopped answering can't serve kube-burner either.
  auto probe = [&sys, coord](const httplib::Request&, httplib::Response& res) {
    auto status = ask<round_status>(sys, coord, std::chrono::seconds(2),
                                    status_atom_v);
    if (!status)
      return reply_error(res, status.error());
    reply_json(res, 200,
               "{\"status\":\"ok\",\"phase\":\""
                 + std::string{to_string(status->current)} + "\"}\n");
  };
  server.Get("/healthz", probe);
  server.Get("/readyz", probe);
  // Known paths answer 405 with an Allow header for every other method.
  std::map<std::string, std::set<std::string>> allowed{
    {"/initiate", {"POST"}},
    {"/checkConnectionsStatus", {"GET"}},
    {"/checkStopStatus", {"GET"}},
    {"/stop", {"GET", "POST"}},
    {"/results", {"GET"}},
    {"/status", {"GET"}},
    {"/healthz", {"GET"}},
    {"/readyz", {"GET"}},
    {"/metrics", {"GET"}},
  };
  for (auto& [path, methods] : allowed) {
    std::string allow;
    for (auto& method : methods)
      allow += (allow.empty() ? "" : ", ") + method;
    auto refuse = [allow](const httplib::Request& req,
                          httplib::Response& res) {
      res.set_header("Allow", allow);
      reply_json(res, 405,
                 error_json("method_not_allowed",
                            req.method + " is not allowed here; use "
                              + allow));
    };
    if (methods.count("GET") == 0)
      server.Get(path, refuse);
    if (methods.count("POST") == 0)
      server.Post(path, [refuse](const httplib::Request& req,
                                 httplib::Response& res,
                                 const httplib::ContentReader&) {
        refuse(req, res);
      });
    server.Put(path, refuse);
    server.Patch(path, refuse);
    server.Delete(path, refuse);
    server.Options(path, refuse);
  }
  // httplib answers some errors itself (404, 413, malformed requests) with
  // an empty body: give those a JSON body too.
  server.set_error_handler([max_body](const httplib::Request& req,
                                      httplib::Response& res) {
    if (!res.body.empty())
      return;
    std::string message;
    switch (res.status) {
      case 404:
        message = "no endpoint " + req.path;
        break;
      case 413:
        message = "request body larger than " + std::to_string(max_body)
                  + " bytes (--max-body)";
        break;
      default:
        message = "request failed with HTTP " + std::to_string(res.status);
    }
    res.set_content(error_json(reason_code(res.status), message),
                    "application/json");
  });
  server.set_exception_handler([](const httplib::Request&,
                                  httplib::Response& res,
                                  std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    reply_json(res, 500, error_json("internal", what));
  });
}

} // namespace netpol
