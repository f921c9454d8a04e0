#include "actors/curl_pod_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <mutex>

namespace netpol {

// -- pod_call_canceller -------------------------------------------------------

void pod_call_canceller::cancel_all() {
  std::lock_guard<std::mutex> guard{mtx_};
  cancelled_.store(true, std::memory_order_release);
  for (auto* multi : waiting_)
    curl_multi_wakeup(static_cast<CURLM*>(multi));
}

void pod_call_canceller::attach(void* multi) {
  std::lock_guard<std::mutex> guard{mtx_};
  waiting_.insert(multi);
}

void pod_call_canceller::detach(void* multi) {
  std::lock_guard<std::mutex> guard{mtx_};
  waiting_.erase(multi);
}

// -- curl_pod_client ----------------------------------------------------------

namespace {

/// curl_global_init is not safe to race with other curl calls: run it once,
/// before the first handle exists.
void init_curl_once() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void) done;
}

long millis(caf::timespan x) {
  return static_cast<long>(
    std::chrono::duration_cast<std::chrono::milliseconds>(x).count());
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

} // namespace

struct curl_pod_client::handles {
  CURL* easy = nullptr;
  CURLM* multi = nullptr;
  curl_slist* post_headers = nullptr;

  handles() {
    init_curl_once();
    easy = curl_easy_init();
    multi = curl_multi_init();
    // JSON, and no "Expect: 100-continue": curl would wait for a 100 before
    // sending a large list, and Go's server sends it only when asked.
    post_headers = curl_slist_append(post_headers,
                                     "Content-Type: application/json");
    post_headers = curl_slist_append(post_headers, "Expect:");
  }

  ~handles() {
    curl_slist_free_all(post_headers);
    if (multi)
      curl_multi_cleanup(multi);
    if (easy)
      curl_easy_cleanup(easy);
  }
};

namespace {

/// What one call has received so far; the callbacks enforce the caps.
struct transfer {
  const answer_limits& limits;
  uint64_t max_body;       // bytes of body kept (and, for /results, allowed)
  bool body_cap_is_error;  // /results: over the cap fails; /check: excerpt
  std::string body;
  size_t head_bytes = 0;
  size_t header_lines = 0; // after the status line of the current head
  bool in_head = false;    // between a status line and its blank line
  bool head_complete = false; // a final (non-1xx) head ended
  call_status cap_status = call_status::ok; // set when a callback aborted
  std::string cap_detail;

  transfer(const answer_limits& limits, uint64_t max_body, bool strict)
    : limits(limits), max_body(max_body), body_cap_is_error(strict) {
  }

  bool fail(call_status status, std::string detail) {
    cap_status = status;
    cap_detail = std::move(detail);
    return false;
  }

  /// One complete header line (libcurl never hands over partial lines).
  bool on_header(std::string_view line) {
    bool status_line = starts_with(line, "HTTP/");
    if (status_line) {
      // A new head: the first, or the final one after a 1xx.
      in_head = true;
      head_complete = false;
      header_lines = 0;
    }
    head_bytes += line.size();
    if (line.size() > limits.max_line)
      return fail(call_status::bad_answer,
                  std::string{status_line ? "status" : "header"}
                    + " line longer than " + std::to_string(limits.max_line)
                    + " bytes");
    if (head_bytes > limits.max_head)
      return fail(call_status::bad_answer,
                  "answer head larger than " + std::to_string(limits.max_head)
                    + " bytes");
    if (line == "\r\n" || line == "\n") {
      // 1xx heads are followed by the real one.
      head_complete = in_head;
      in_head = false;
      return true;
    }
    if (!status_line && ++header_lines > limits.max_header_lines)
      return fail(call_status::bad_answer,
                  "more than " + std::to_string(limits.max_header_lines)
                    + " header lines");
    return true;
  }

  bool on_body(const char* data, size_t size) {
    if (body.size() + size > max_body) {
      if (body_cap_is_error)
        return fail(call_status::too_large,
                    "answer larger than " + std::to_string(max_body)
                      + " bytes");
      body.append(data, max_body - body.size()); // an excerpt is enough
      return true;
    }
    body.append(data, size);
    return true;
  }
};

size_t on_header_data(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  return t->on_header({data, size * count}) ? size * count : 0;
}

size_t on_body_data(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  return t->on_body(data, size * count) ? size * count : 0;
}

/// One call as libcurl is asked to make it.
struct call_spec {
  std::string url;
  bool post;
  std::string_view body;
  caf::timespan connect_timeout;
  caf::timespan deadline; // the whole call's
  uint64_t max_response_bytes;
};

/// Sets `easy` up for one call. `t` and `error` must outlive the call: the
/// callbacks and libcurl write into them.
void prepare_easy(CURL* easy, curl_slist* post_headers, const call_spec& spec,
                  transfer& t, char* error) {
  curl_easy_reset(easy);
  curl_easy_setopt(easy, CURLOPT_URL, spec.url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
  // One deadline for the whole call, enforced by libcurl itself.
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, millis(spec.deadline));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   millis(spec.connect_timeout));
  // Pods are reached directly: an http_proxy in the container's environment
  // must not reroute them.
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
  // Pod addresses are IP literals, one call each per stage: a DNS cache
  // holds an entry per pod and is walked on every call (a third of the
  // proxy's CPU at 20,000 pods).
  curl_easy_setopt(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header_data);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body_data);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
  if (!spec.post)
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(spec.max_response_bytes));
  if (spec.post) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, spec.body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(spec.body.size()));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, post_headers);
  }
}

/// How a call's wait ended: libcurl's result, or cancelled first.
struct perform_end {
  CURLcode result = CURLE_OK;
  bool cancelled = false;
};

/// Runs the call set up on `easy` until libcurl ends it (the deadline
/// included) or `canceller` cancels it; a cancelled proxy starts no call.
perform_end perform_call(CURLM* multi, CURL* easy,
                         const pod_call_canceller* canceller) {
  perform_end end;
  end.cancelled = canceller && canceller->cancelled();
  if (end.cancelled)
    return end;
  curl_multi_add_handle(multi, easy);
  for (bool done = false; !done;) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (auto* msg = curl_multi_info_read(multi, &queued))
      if (msg->msg == CURLMSG_DONE) {
        end.result = msg->data.result;
        done = true;
      }
    if (done)
      break;
    if (canceller && canceller->cancelled()) {
      end.cancelled = true;
      break;
    }
    // Returns at curl's own next timeout, on socket activity, or when
    // cancel_all() wakes it.
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  curl_multi_remove_handle(multi, easy);
  return end;
}

/// What decides the outcome of the call that just ended on `easy`; takes
/// the answer out of `t`.
curl_call_facts read_facts(CURL* easy, const call_spec& spec, perform_end end,
                           transfer& t, const char* error) {
  curl_call_facts f;
  f.post = spec.post;
  f.result = end.result;
  f.error = error;
  f.cancelled = end.cancelled;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &f.http_code);
  curl_off_t uploaded = 0;
  curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &uploaded);
  f.body_bytes_sent = uploaded;
  curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &f.request_bytes);
  curl_off_t connect_time = 0;
  curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect_time);
  f.connected = connect_time != 0;
  f.body_bytes = spec.body.size();
  f.head_complete = t.head_complete;
  f.cap_status = t.cap_status;
  f.cap_detail = std::move(t.cap_detail);
  f.answer = std::move(t.body);
  f.connect_timeout = spec.connect_timeout;
  f.deadline = spec.deadline;
  f.max_response_bytes = spec.max_response_bytes;
  return f;
}

} // namespace

curl_pod_client::curl_pod_client(const proxy_settings& settings,
                                 pod_call_canceller_ptr canceller,
                                 answer_limits limits)
  : handles_(std::make_unique<handles>()),
    canceller_(std::move(canceller)),
    limits_(limits),
    port_(settings.client_port),
    connect_timeout_(settings.connect_timeout),
    request_timeout_(settings.request_timeout),
    max_response_bytes_(settings.max_response_bytes) {
  if (canceller_)
    canceller_->attach(handles_->multi);
}

curl_pod_client::~curl_pod_client() {
  if (canceller_)
    canceller_->detach(handles_->multi);
}

pod_outcome curl_pod_client::post_check(const std::string& ip,
                                        std::string_view connections) {
  // /check answers a line of text: keep an excerpt for error messages.
  return call(ip, "/check", true, connections, 4096);
}

pod_outcome curl_pod_client::get_results(const std::string& ip) {
  return call(ip, "/results", false, {}, max_response_bytes_);
}

pod_outcome curl_pod_client::get_status(const std::string& ip) {
  // netpol-client's /status is a small JSON object.
  return call(ip, "/status", false, {}, 64 * 1024);
}

pod_outcome curl_pod_client::call(const std::string& ip,
                                  std::string_view path, bool post,
                                  std::string_view body, uint64_t max_body) {
  using clock = std::chrono::steady_clock;
  auto started = clock::now();
  call_spec spec{pod_url(ip, port_, path),
                 post,
                 body,
                 connect_timeout_,
                 connect_timeout_ + request_timeout_,
                 post ? max_response_bytes_ : max_body};
  transfer t{limits_, max_body, !post};
  char error[CURL_ERROR_SIZE] = {0};
  prepare_easy(handles_->easy, handles_->post_headers, spec, t, error);
  auto end = perform_call(handles_->multi, handles_->easy, canceller_.get());
  auto elapsed = clock::now() - started;
  auto out = classify_curl_call(
    read_facts(handles_->easy, spec, end, t, error));
  out.elapsed = elapsed;
  return out;
}

// -- classifying an ended call ------------------------------------------------

namespace {

/// Status and detail of a call libcurl ended with an error.
void describe_failure(const curl_call_facts& f, pod_outcome& out) {
  auto rc = static_cast<CURLcode>(f.result);
  auto whole = describe_duration(f.deadline);
  auto detail = [&](std::string fallback) {
    return !f.error.empty() ? std::move(fallback) + " (" + f.error + ")"
                            : std::move(fallback);
  };
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
      out.status = call_status::refused;
      out.detail = "connection refused or unreachable";
      break;
    case CURLE_OPERATION_TIMEDOUT:
      out.status = call_status::timeout;
      if (!f.connected)
        out.detail = "no connection within "
                     + describe_duration(f.connect_timeout);
      else if (f.head_complete)
        out.detail = "answer not complete within " + whole;
      else
        out.detail = "no answer within " + whole;
      break;
    case CURLE_SEND_ERROR:
      out.status = call_status::reset;
      out.detail = "connection reset while sending";
      break;
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
      out.status = call_status::reset;
      out.detail = f.head_complete ? "connection closed during the answer"
                                   : "connection reset before an answer";
      break;
    case CURLE_GOT_NOTHING:
      out.status = call_status::reset;
      out.detail = "connection closed before an answer";
      break;
    case CURLE_WRITE_ERROR:
      if (f.cap_status != call_status::ok) {
        out.status = f.cap_status;
        out.detail = f.cap_detail;
      } else {
        out.status = call_status::reset;
        out.detail = detail("answer could not be read");
      }
      break;
    case CURLE_FILESIZE_EXCEEDED:
      out.status = call_status::too_large;
      out.detail = "answer larger than "
                   + std::to_string(f.max_response_bytes) + " bytes";
      break;
    case CURLE_OUT_OF_MEMORY:
      // libcurl buffers an unfinished header line up to
      // CURL_MAX_HTTP_HEADER and gives up past it.
      out.status = call_status::bad_answer;
      out.detail = "header line longer than "
                   + std::to_string(CURL_MAX_HTTP_HEADER) + " bytes";
      break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_HTTP2:
    case CURLE_BAD_CONTENT_ENCODING:
      out.status = call_status::bad_answer;
      out.detail = detail("malformed answer");
      break;
    default:
      out.status = call_status::reset;
      out.detail = detail(curl_easy_strerror(rc));
  }
}

} // namespace

pod_outcome classify_curl_call(curl_call_facts facts) {
  pod_outcome out;
  out.request_sent = facts.request_bytes > 0
                     && facts.body_bytes_sent
                          == static_cast<int64_t>(facts.body_bytes);
  auto code = facts.http_code;
  bool head_ok = facts.head_complete && code >= 200 && code <= 299;
  // A /check whose 2xx head arrived was taken, whatever the rest does.
  bool taken = facts.post && head_ok;
  if (facts.cancelled && !taken) {
    out.status = call_status::cancelled;
    out.detail = "call cancelled: the proxy is shutting down";
    return out;
  }
  out.http_status = static_cast<uint16_t>(code);
  if (facts.result != CURLE_OK && !taken) {
    describe_failure(facts, out);
    return out;
  }
  if (!head_ok) {
    out.status = call_status::http_error;
    auto excerpt = facts.answer.substr(0, 200);
    while (!excerpt.empty()
           && (excerpt.back() == '\n' || excerpt.back() == '\r'))
      excerpt.pop_back();
    out.detail = "HTTP " + std::to_string(code)
                 + (excerpt.empty() ? "" : ": " + excerpt);
    return out;
  }
  out.status = call_status::ok;
  if (!facts.post)
    out.body = shared_bytes{std::move(facts.answer)};
  return out;
}

} // namespace netpol
