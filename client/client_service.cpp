#include "client/client_service.hpp"

#include "messages/digest.hpp"
#include "messages/flags.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>


namespace netpol::client {

namespace {

std::string target_text(const probe_target& t) {
  bool v6 = t.address.find(':') != std::string::npos;
  return (v6 ? "[" + t.address + "]" : t.address) + ":"
         + std::to_string(t.port);
}

endpoint_answer text_answer(unsigned status, std::string body) {
  endpoint_answer out;
  out.status = status;
  out.body = std::move(body);
  out.body += '\n';
  return out;
}

} // namespace

client_service::client_service(const schedule_settings& settings,
                               size_t max_tests, prober& probes,
                               std::string version)
  : settings_(settings),
    max_tests_(max_tests),
    prober_(probes),
    version_(std::move(version)) {
}

endpoint_answer client_service::check(std::string_view body,
                                      steady::time_point now) {
  auto parsed = parse_check_body(body, max_tests_);
  if (!parsed.list) {
    ++checks_bad_;
    spdlog::warn("Refused a /check body that does not parse ({} bytes): {}",
                 body.size(), parsed.error);
    return text_answer(400, "Unable to parse request body: " + parsed.error);
  }
  if (list_) {
    if (parsed.list->tests == list_->tests
        && parsed.list->connections == list_->connections) {
      ++checks_repeated_;
      spdlog::info("/check again with the list already taken: nothing "
                   "changes");
      return text_answer(200, "Check Request received: this list was taken "
                              "already, nothing changes");
    }
    ++checks_refused_;
    spdlog::warn("Refused a /check with another list ({} tests, sha256 {}): "
                 "the list taken (sha256 {}) stays",
                 parsed.list->tests.size(), sha256_hex(body), list_sha256_);
    return text_answer(409, "Another connection list was taken already "
                            "(sha256 "
                              + list_sha256_ + "); nothing was appended");
  }
  list_ = std::move(*parsed.list);
  list_sha256_ = sha256_hex(body);
  list_taken_at_ = wall::now();
  scheduler_ = std::make_unique<probe_scheduler>(
    settings_, *list_, prober_,
    [this](size_t target, wall::time_point at, uint64_t probes) {
      record_success(target, at, probes);
    },
    now);
  spdlog::info("Check request taken: {} connections, {} tests on {} "
               "targets (sha256 {}); probing each every {}",
               list_->connections, list_->tests.size(), list_->targets.size(),
               list_sha256_,
               duration_flag_text(scheduler_->effective_interval()));
  return text_answer(200, "Check Request received, processing...");
}

void client_service::record_success(size_t target, wall::time_point at,
                                    uint64_t probes) {
  auto& t = list_->targets[target];
  if (!first_success_)
    first_success_ = at;
  last_success_ = at;
  auto when = go_time_text(at);
  for (auto test_index : t.tests) {
    auto& test = list_->tests[test_index];
    results_.add(test, at);
    spdlog::info("Success: {} (connection {}, {}) at {} after {} probes",
                 target_text(t), test.connection_index, test.netpol, when,
                 probes);
  }
  if (all_succeeded())
    spdlog::info("All {} tests succeeded, the first at {}, the last at {}; {}",
                 list_->tests.size(), go_time_text(*first_success_), when,
                 probes_line());
}

bool client_service::all_succeeded() const {
  return scheduler_ && scheduler_->targets_pending() == 0;
}

endpoint_answer client_service::results() const {
  endpoint_answer out;
  out.content_type = "application/json";
  out.body = results_.body();
  return out;
}

std::string client_service::probes_line() const {
  auto& c = scheduler_->counts();
  std::string failures;
  for (size_t i = 0; i < probe_failure_kinds; ++i)
    if (c.failed[i] > 0)
      failures += fmt::format(", {} {}", probe_failure_names[i], c.failed[i]);
  return fmt::format("{} probes sent (no SYN-ACK in time {}, no answer in "
                     "time {}{})",
                     c.sent, c.abandoned_connecting, c.abandoned_connected,
                     failures);
}

std::string client_service::progress_line() const {
  if (!scheduler_)
    return {};
  return fmt::format("{} of {} tests succeeded, targets pending: {}; {}; "
                     "interval {}",
                     results_.entries(), list_->tests.size(),
                     scheduler_->targets_pending(), probes_line(),
                     duration_flag_text(scheduler_->effective_interval()));
}

endpoint_answer client_service::status() const {
  using nlohmann::json;
  json out;
  out["version"] = version_;
  out["list_taken"] = list_.has_value();
  out["interval_ms"] = settings_.interval.count() / 1e6;
  out["max_probes_per_second"] = settings_.max_probes_per_second;
  out["checks_repeated"] = checks_repeated_;
  out["checks_refused"] = checks_refused_;
  out["checks_unparsed"] = checks_bad_;
  if (list_) {
    auto& c = scheduler_->counts();
    out["list_sha256"] = list_sha256_;
    out["list_taken_at"] = go_time_text(list_taken_at_);
    out["connections"] = list_->connections;
    out["tests"] = list_->tests.size();
    out["targets"] = list_->targets.size();
    out["tests_succeeded"] = results_.entries();
    out["tests_pending"] = list_->tests.size() - results_.entries();
    out["targets_pending"] = scheduler_->targets_pending();
    out["effective_interval_ms"]
      = scheduler_->effective_interval().count() / 1e6;
    out["probes_sent"] = c.sent;
    out["probes_in_flight"] = scheduler_->probes_in_flight();
    json outcomes{{"succeeded", c.succeeded},
                  {"no_syn_ack_in_time", c.abandoned_connecting},
                  {"no_answer_in_time", c.abandoned_connected}};
    for (size_t i = 0; i < probe_failure_kinds; ++i)
      outcomes[probe_failure_names[i]] = c.failed[i];
    out["probe_outcomes"] = std::move(outcomes);
    out["first_success"] = first_success_ ? json(go_time_text(*first_success_))
                                          : json(nullptr);
    out["last_success"] = last_success_ ? json(go_time_text(*last_success_))
                                        : json(nullptr);
  }
  endpoint_answer answer;
  answer.content_type = "application/json";
  answer.body = out.dump() + "\n";
  return answer;
}

} // namespace netpol::client
