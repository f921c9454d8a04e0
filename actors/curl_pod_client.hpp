// The real pod client: libcurl, one call at a time per instance, every call
// ended by one total deadline, every part of the answer capped, and every
// call interruptible at shutdown.
#pragma once

#include "actors/pod_client.hpp"
#include "messages/settings.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_set>

namespace netpol {

/// Caps on what a pod may send back before its answer counts as malformed.
/// A Go net/http server (the real client pod) answers with a status line and
/// three short headers.
struct answer_limits {
  size_t max_line = 8192;        // the status line, and each header line
  size_t max_header_lines = 100; // header lines after the status line
  size_t max_head = 65536;       // status line and headers together
};

/// Ends every pod call in flight when the proxy shuts down: each
/// curl_pod_client registers its wait here, and cancel_all() wakes them.
class pod_call_canceller {
public:
  /// Ends the calls in flight at once; calls started later end at once too.
  void cancel_all();

  bool cancelled() const {
    return cancelled_.load(std::memory_order_acquire);
  }

  /// For curl_pod_client: a curl multi handle to wake on cancel_all().
  void attach(void* multi);
  void detach(void* multi);

private:
  std::mutex mtx_;
  std::unordered_set<void*> waiting_;
  std::atomic<bool> cancelled_{false};
};

using pod_call_canceller_ptr = std::shared_ptr<pod_call_canceller>;

/// All that decides a call's outcome once it has ended, read from libcurl
/// and the answer callbacks. Plain values, so each way a call can end can be
/// classified (and tested) without a handle or a socket.
struct curl_call_facts {
  bool post = false;           // POST /check, else GET /results
  int result = 0;              // the CURLcode (int keeps curl.h out of here)
  std::string error;           // libcurl's error buffer, often empty
  bool cancelled = false;      // cancel_all() came before or during the call
  long http_code = 0;          // status of the last head, 0 if none
  bool head_complete = false;  // a final (non-1xx) head ended
  bool connected = false;      // the TCP connection was made
  long request_bytes = 0;      // issued so far (CURLINFO_REQUEST_SIZE)
  int64_t body_bytes_sent = 0; // of the request body
  size_t body_bytes = 0;       // the request body to send
  call_status cap_status = call_status::ok; // a callback's cap, if it aborted
  std::string cap_detail;
  std::string answer;          // /results: the body; /check: an excerpt
  caf::timespan connect_timeout{0};
  caf::timespan deadline{0};   // the whole call's: connect + request timeout
  uint64_t max_response_bytes = 0;
};

/// The outcome of an ended call: status, detail text, `http_status` and
/// `request_sent` (not `elapsed`). A /results body moves out of `facts`.
pod_outcome classify_curl_call(curl_call_facts facts);

/// Calls a pod with libcurl. The call's one deadline is connect timeout +
/// request timeout, enforced inside libcurl for the whole call (a pod that
/// trickles bytes cannot stretch it); the status line, header lines, header
/// count and body are capped (`answer_limits`, --max-response), so a call
/// holds a bounded amount of memory and frees it when it ends. Not thread
/// safe: each worker owns one (its curl handles are reused across calls).
class curl_pod_client : public pod_client {
public:
  explicit curl_pod_client(const proxy_settings& settings,
                           pod_call_canceller_ptr canceller = nullptr,
                           answer_limits limits = {});

  ~curl_pod_client() override;

  curl_pod_client(const curl_pod_client&) = delete;
  curl_pod_client& operator=(const curl_pod_client&) = delete;

  pod_outcome post_check(const std::string& ip,
                         std::string_view connections) override;

  pod_outcome get_results(const std::string& ip) override;

  pod_outcome get_status(const std::string& ip) override;

private:
  pod_outcome call(const std::string& ip, std::string_view path, bool post,
                   std::string_view body, uint64_t max_body);

  struct handles;
  std::unique_ptr<handles> handles_;
  pod_call_canceller_ptr canceller_;
  answer_limits limits_;
  uint16_t port_;
  caf::timespan connect_timeout_;
  caf::timespan request_timeout_;
  uint64_t max_response_bytes_;
};

} // namespace netpol
