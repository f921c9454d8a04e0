#include "messages/types.hpp"

namespace netpol {

const char* to_string(phase x) {
  switch (x) {
    case phase::idle:
      return "idle";
    case phase::delivering:
      return "delivering";
    case phase::delivered:
      return "delivered";
    case phase::collecting:
      return "collecting";
    case phase::collected:
      return "collected";
  }
  return "unknown";
}

const char* to_string(pod_state x) {
  switch (x) {
    case pod_state::queued:
      return "queued";
    case pod_state::delivering:
      return "delivering";
    case pod_state::delivered:
      return "delivered";
    case pod_state::unconfirmed:
      return "unconfirmed";
    case pod_state::failed:
      return "failed";
    case pod_state::collect_queued:
      return "collect_queued";
    case pod_state::collecting:
      return "collecting";
    case pod_state::collected:
      return "collected";
    case pod_state::collect_failed:
      return "collect_failed";
  }
  return "unknown";
}

const char* to_string(stage x) {
  return x == stage::delivery ? "delivery" : "collection";
}

const char* to_string(call_status x) {
  switch (x) {
    case call_status::ok:
      return "ok";
    case call_status::refused:
      return "refused";
    case call_status::reset:
      return "reset";
    case call_status::timeout:
      return "timeout";
    case call_status::http_error:
      return "http_error";
    case call_status::bad_body:
      return "bad_body";
    case call_status::too_large:
      return "too_large";
    case call_status::worker_crashed:
      return "worker_crashed";
    case call_status::bad_answer:
      return "bad_answer";
    case call_status::cancelled:
      return "cancelled";
  }
  return "unknown";
}

bool is_delivery_terminal(pod_state x) {
  return x != pod_state::queued && x != pod_state::delivering;
}

bool is_collection_terminal(pod_state x) {
  return x == pod_state::collected || x == pod_state::collect_failed;
}

} // namespace netpol
