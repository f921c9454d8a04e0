#include "support/simulated_pod_client.hpp"

#include "messages/digest.hpp"

namespace netpol {

void simulated_pod_client::script(const std::string& ip, stage kind,
                                  std::vector<sim_answer> answers) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& queue = scripts_[{ip, kind}];
  queue.insert(queue.end(), answers.begin(), answers.end());
}

void simulated_pod_client::set_results(const std::string& ip,
                                       std::string body) {
  std::lock_guard<std::mutex> guard{mtx_};
  results_[ip] = std::move(body);
}

pod_outcome simulated_pod_client::post_check(const std::string& ip,
                                             std::string_view connections) {
  return answer(ip, stage::delivery, connections);
}

pod_outcome simulated_pod_client::get_results(const std::string& ip) {
  return answer(ip, stage::collection, {});
}

std::vector<simulated_pod_client::call_record>
simulated_pod_client::calls() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return calls_;
}

size_t simulated_pod_client::calls_to(const std::string& ip,
                                      stage kind) const {
  std::lock_guard<std::mutex> guard{mtx_};
  size_t result = 0;
  for (auto& call : calls_)
    if (call.ip == ip && call.kind == kind)
      ++result;
  return result;
}

sim_answer simulated_pod_client::next_of(std::deque<sim_answer>* queue) {
  if (queue == nullptr || queue->empty())
    return sim_answer::ok;
  auto next = queue->front();
  queue->pop_front();
  return next;
}

pod_outcome simulated_pod_client::answer(const std::string& ip, stage kind,
                                         std::string_view payload) {
  std::lock_guard<std::mutex> guard{mtx_};
  calls_.push_back(call_record{ip, kind, std::string{payload}});
  auto i = scripts_.find({ip, kind});
  auto next = next_of(i != scripts_.end() ? &i->second : nullptr);
  pod_outcome out;
  fill(out, next, ip, kind);
  auto c = clients_.find(ip);
  if (c == clients_.end() || kind != stage::delivery || !out.request_sent)
    return out;
  if (c->second.lose_first_check)
    c->second.lose_first_check = false;
  else if (c->second.taken.empty())
    c->second.taken = std::string{payload};
  return out;
}

void simulated_pod_client::answer_status(const std::string& ip,
                                         bool lose_first_check) {
  std::lock_guard<std::mutex> guard{mtx_};
  clients_[ip].lose_first_check = lose_first_check;
}

void simulated_pod_client::script_status(const std::string& ip,
                                         std::vector<sim_answer> answers) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& queue = clients_[ip].status_script;
  queue.insert(queue.end(), answers.begin(), answers.end());
}

std::string simulated_pod_client::list_taken(const std::string& ip) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = clients_.find(ip);
  return i == clients_.end() ? std::string{} : i->second.taken;
}

size_t simulated_pod_client::status_calls_to(const std::string& ip) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = status_calls_.find(ip);
  return i == status_calls_.end() ? 0 : i->second;
}

pod_outcome simulated_pod_client::get_status(const std::string& ip) {
  std::lock_guard<std::mutex> guard{mtx_};
  pod_outcome out;
  ++status_calls_[ip];
  auto i = clients_.find(ip);
  if (i == clients_.end()) { // the real client: no such endpoint
    out.status = call_status::http_error;
    out.http_status = 404;
    out.request_sent = true;
    out.detail = "HTTP 404: 404 page not found";
    return out;
  }
  auto& pod = i->second;
  auto next = next_of(&pod.status_script);
  fill(out, next, ip, stage::delivery);
  if (next == sim_answer::ok) {
    auto taken = !pod.taken.empty();
    out.body = shared_bytes{
      std::string{R"({"version":"sim","list_taken":)"}
      + (taken ? "true" : "false")
      + (taken ? R"(,"list_sha256":")" + sha256_hex(pod.taken) + "\"" : "")
      + "}"};
  }
  return out;
}

void simulated_pod_client::fill(pod_outcome& out, sim_answer next,
                                const std::string& ip, stage kind) {
  // Every answer but these came after the whole request was written.
  out.request_sent = next != sim_answer::refused
                     && next != sim_answer::connect_timeout
                     && next != sim_answer::send_reset
                     && next != sim_answer::cancelled;
  switch (next) {
    case sim_answer::ok:
      out.status = call_status::ok;
      out.http_status = 200;
      if (kind == stage::collection) {
        auto i = results_.find(ip);
        out.body = shared_bytes{i != results_.end() ? i->second : "[]"};
      }
      break;
    case sim_answer::refused:
      out.status = call_status::refused;
      out.detail = "connection refused or unreachable";
      break;
    case sim_answer::connect_timeout:
      out.status = call_status::timeout;
      out.detail = "no connection within 3s";
      break;
    case sim_answer::send_reset:
      out.status = call_status::reset;
      out.detail = "connection reset while sending";
      break;
    case sim_answer::reset:
      out.status = call_status::reset;
      out.detail = "connection closed before an answer";
      break;
    case sim_answer::timeout:
      out.status = call_status::timeout;
      out.detail = "no answer within 13s";
      break;
    case sim_answer::bad_answer:
      out.status = call_status::bad_answer;
      out.detail = "header line longer than 8192 bytes";
      break;
    case sim_answer::http_500:
      out.status = call_status::http_error;
      out.http_status = 500;
      out.detail = "HTTP 500: internal error";
      break;
    case sim_answer::http_400:
      out.status = call_status::http_error;
      out.http_status = 400;
      out.detail = "HTTP 400: bad request";
      break;
    case sim_answer::bad_json:
      out.status = call_status::ok;
      out.http_status = 200;
      out.body = shared_bytes{R"([{"address": "10.0.0.1", "port": 80,)"};
      break;
    case sim_answer::crash:
      throw simulated_crash{"simulated pod client crash for " + ip};
    case sim_answer::cancelled:
    case sim_answer::cancelled_sent:
      out.status = call_status::cancelled;
      out.detail = "call cancelled: the proxy is shutting down";
      break;
  }
}

} // namespace netpol
