#define CAF_SUITE curl_outcome

#include "actors/curl_pod_client.hpp"

#include "support/test.hpp"

#include <curl/curl.h>

#include <chrono>

using namespace netpol;
using namespace std::chrono_literals;

namespace {

/// A POST /check of a 100-byte list, before anything happened: connect
/// timeout 500 ms, the call's deadline 1.5 s, --max-response 1000.
curl_call_facts check_call() {
  curl_call_facts f;
  f.post = true;
  f.body_bytes = 100;
  f.connect_timeout = 500ms;
  f.deadline = 1500ms;
  f.max_response_bytes = 1000;
  return f;
}

/// The same for GET /results, which has no body.
curl_call_facts results_call() {
  auto f = check_call();
  f.post = false;
  f.body_bytes = 0;
  return f;
}

/// Connected, and the whole request written.
curl_call_facts sent(curl_call_facts f) {
  f.connected = true;
  f.request_bytes = 180;
  f.body_bytes_sent = static_cast<int64_t>(f.body_bytes);
  return f;
}

/// A complete final head with `code` arrived.
curl_call_facts answered(curl_call_facts f, long code,
                         std::string answer = {}) {
  f = sent(std::move(f));
  f.http_code = code;
  f.head_complete = true;
  f.answer = std::move(answer);
  return f;
}

curl_call_facts ended_by(curl_call_facts f, CURLcode rc,
                         std::string error = {}) {
  f.result = rc;
  f.error = std::move(error);
  return f;
}

} // namespace

TEST(a refused connection and a connect timeout send nothing) {
  auto out = classify_curl_call(ended_by(check_call(), CURLE_COULDNT_CONNECT,
                                         "Failed to connect"));
  CHECK_EQUAL(out.status, call_status::refused);
  CHECK_EQUAL(out.detail, "connection refused or unreachable");
  CHECK(!out.request_sent);
  CHECK_EQUAL(out.http_status, 0u);
  out = classify_curl_call(ended_by(check_call(), CURLE_OPERATION_TIMEDOUT));
  CHECK_EQUAL(out.status, call_status::timeout);
  CHECK_EQUAL(out.detail, "no connection within 500ms");
  CHECK(!out.request_sent);
}

TEST(the request counts as sent only when all of it was written) {
  auto f = sent(check_call());
  CHECK(classify_curl_call(ended_by(f, CURLE_RECV_ERROR)).request_sent);
  MESSAGE("part of the body");
  f.body_bytes_sent = 99;
  CHECK(!classify_curl_call(ended_by(f, CURLE_SEND_ERROR)).request_sent);
  MESSAGE("nothing issued: a GET's zero body bytes are not enough");
  auto get = results_call();
  get.connected = true;
  CHECK(!classify_curl_call(ended_by(get, CURLE_RECV_ERROR)).request_sent);
  get.request_bytes = 60;
  CHECK(classify_curl_call(ended_by(get, CURLE_RECV_ERROR)).request_sent);
}

TEST(a reset while sending leaves the request unsent) {
  auto f = sent(check_call());
  f.body_bytes_sent = 40;
  auto out = classify_curl_call(
    ended_by(f, CURLE_SEND_ERROR, "Connection reset by peer"));
  CHECK_EQUAL(out.status, call_status::reset);
  CHECK_EQUAL(out.detail, "connection reset while sending");
  CHECK(!out.request_sent);
}

TEST(a reset or close after sending says how far the answer got) {
  auto out = classify_curl_call(ended_by(sent(check_call()), CURLE_RECV_ERROR,
                                         "Connection reset by peer"));
  CHECK_EQUAL(out.status, call_status::reset);
  CHECK_EQUAL(out.detail, "connection reset before an answer");
  CHECK(out.request_sent);
  out = classify_curl_call(ended_by(sent(check_call()), CURLE_GOT_NOTHING));
  CHECK_EQUAL(out.status, call_status::reset);
  CHECK_EQUAL(out.detail, "connection closed before an answer");
  CHECK(out.request_sent);
  MESSAGE("/results after its 200 head");
  out = classify_curl_call(
    ended_by(answered(results_call(), 200, "[{"), CURLE_PARTIAL_FILE));
  CHECK_EQUAL(out.status, call_status::reset);
  CHECK_EQUAL(out.detail, "connection closed during the answer");
  CHECK_EQUAL(out.http_status, 200u);
  CHECK(out.body.view().empty());
  out = classify_curl_call(
    ended_by(answered(results_call(), 200), CURLE_RECV_ERROR));
  CHECK_EQUAL(out.detail, "connection closed during the answer");
}

TEST(a timeout after sending says whether a head arrived) {
  auto out = classify_curl_call(
    ended_by(sent(check_call()), CURLE_OPERATION_TIMEDOUT));
  CHECK_EQUAL(out.status, call_status::timeout);
  CHECK_EQUAL(out.detail, "no answer within 1500ms");
  CHECK(out.request_sent);
  out = classify_curl_call(
    ended_by(answered(results_call(), 200), CURLE_OPERATION_TIMEDOUT));
  CHECK_EQUAL(out.status, call_status::timeout);
  CHECK_EQUAL(out.detail, "answer not complete within 1500ms");
  MESSAGE("a /check whose error head arrived is not taken");
  out = classify_curl_call(
    ended_by(answered(check_call(), 503), CURLE_OPERATION_TIMEDOUT));
  CHECK_EQUAL(out.status, call_status::timeout);
  CHECK_EQUAL(out.detail, "answer not complete within 1500ms");
  CHECK_EQUAL(out.http_status, 503u);
  MESSAGE("whole seconds are written as such");
  auto f = sent(results_call());
  f.deadline = 3s;
  out = classify_curl_call(ended_by(f, CURLE_OPERATION_TIMEDOUT));
  CHECK_EQUAL(out.detail, "no answer within 3s");
}

TEST(a check whose 2xx head arrived was taken whatever followed) {
  for (auto rc : {CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR,
                  CURLE_PARTIAL_FILE, CURLE_WRITE_ERROR}) {
    auto out = classify_curl_call(ended_by(answered(check_call(), 202), rc));
    CHECK_EQUAL(out.status, call_status::ok);
    CHECK_EQUAL(out.http_status, 202u);
    CHECK(out.request_sent);
    CHECK(out.detail.empty());
  }
  MESSAGE("a head that never ended is not a 2xx head");
  auto f = answered(check_call(), 200);
  f.head_complete = false;
  auto out = classify_curl_call(ended_by(f, CURLE_OPERATION_TIMEDOUT));
  CHECK_EQUAL(out.status, call_status::timeout);
  CHECK_EQUAL(out.detail, "no answer within 1500ms");
}

TEST(cancelling before or after sending ends the call as cancelled) {
  auto before = check_call();
  before.cancelled = true;
  auto out = classify_curl_call(before);
  CHECK_EQUAL(out.status, call_status::cancelled);
  CHECK_EQUAL(out.detail, "call cancelled: the proxy is shutting down");
  CHECK(!out.request_sent);
  auto after = sent(check_call());
  after.cancelled = true;
  out = classify_curl_call(after);
  CHECK_EQUAL(out.status, call_status::cancelled);
  CHECK(out.request_sent);
  MESSAGE("cancelled wins over libcurl's error, and reports no HTTP status");
  auto failed = ended_by(answered(results_call(), 200),
                         CURLE_OPERATION_TIMEDOUT);
  failed.cancelled = true;
  out = classify_curl_call(failed);
  CHECK_EQUAL(out.status, call_status::cancelled);
  CHECK_EQUAL(out.http_status, 0u);
  CHECK(out.body.view().empty());
  MESSAGE("a /check taken before the cancel stays delivered");
  auto taken = answered(check_call(), 200);
  taken.cancelled = true;
  out = classify_curl_call(taken);
  CHECK_EQUAL(out.status, call_status::ok);
  CHECK_EQUAL(out.http_status, 200u);
}

TEST(caps the callbacks enforced come back as they set them) {
  auto f = ended_by(answered(results_call(), 200), CURLE_WRITE_ERROR,
                    "Failure writing output to destination");
  f.cap_status = call_status::too_large;
  f.cap_detail = "answer larger than 1000 bytes";
  auto out = classify_curl_call(f);
  CHECK_EQUAL(out.status, call_status::too_large);
  CHECK_EQUAL(out.detail, "answer larger than 1000 bytes");
  f = ended_by(sent(check_call()), CURLE_WRITE_ERROR);
  f.cap_status = call_status::bad_answer;
  f.cap_detail = "more than 100 header lines";
  out = classify_curl_call(f);
  CHECK_EQUAL(out.status, call_status::bad_answer);
  CHECK_EQUAL(out.detail, "more than 100 header lines");
  CHECK(out.request_sent);
  MESSAGE("a write error without a cap is a failed read");
  out = classify_curl_call(ended_by(answered(results_call(), 200),
                                    CURLE_WRITE_ERROR, "disk gone"));
  CHECK_EQUAL(out.status, call_status::reset);
  CHECK_EQUAL(out.detail, "answer could not be read (disk gone)");
  out = classify_curl_call(
    ended_by(answered(results_call(), 200), CURLE_WRITE_ERROR));
  CHECK_EQUAL(out.detail, "answer could not be read");
}

TEST(limits libcurl enforces and malformed answers end the call) {
  auto out = classify_curl_call(
    ended_by(answered(results_call(), 200), CURLE_FILESIZE_EXCEEDED));
  CHECK_EQUAL(out.status, call_status::too_large);
  CHECK_EQUAL(out.detail, "answer larger than 1000 bytes");
  out = classify_curl_call(ended_by(sent(check_call()), CURLE_OUT_OF_MEMORY));
  CHECK_EQUAL(out.status, call_status::bad_answer);
  CHECK_EQUAL(out.detail, "header line longer than 102400 bytes");
  for (auto rc : {CURLE_WEIRD_SERVER_REPLY, CURLE_UNSUPPORTED_PROTOCOL,
                  CURLE_HTTP2, CURLE_BAD_CONTENT_ENCODING}) {
    out = classify_curl_call(ended_by(sent(check_call()), rc));
    CHECK_EQUAL(out.status, call_status::bad_answer);
    CHECK_EQUAL(out.detail, "malformed answer");
  }
  out = classify_curl_call(ended_by(sent(check_call()),
                                    CURLE_WEIRD_SERVER_REPLY,
                                    "Unsupported HTTP version in response"));
  CHECK_EQUAL(out.detail,
              "malformed answer (Unsupported HTTP version in response)");
}

TEST(any other libcurl error is a reset in the words of libcurl) {
  auto out = classify_curl_call(
    ended_by(sent(check_call()), CURLE_SSL_CONNECT_ERROR));
  CHECK_EQUAL(out.status, call_status::reset);
  CHECK_EQUAL(out.detail, curl_easy_strerror(CURLE_SSL_CONNECT_ERROR));
  out = classify_curl_call(
    ended_by(sent(check_call()), CURLE_SSL_CONNECT_ERROR, "handshake"));
  CHECK_EQUAL(out.detail,
              std::string{curl_easy_strerror(CURLE_SSL_CONNECT_ERROR)}
                + " (handshake)");
}

TEST(a whole answer is ok for 2xx and an HTTP error otherwise) {
  auto out = classify_curl_call(answered(results_call(), 200, "[]"));
  CHECK_EQUAL(out.status, call_status::ok);
  CHECK_EQUAL(out.http_status, 200u);
  CHECK_EQUAL(out.body.view(), "[]");
  CHECK(out.detail.empty());
  MESSAGE("a /check's answer is only an excerpt for errors");
  out = classify_curl_call(answered(check_call(), 200, "ok\n"));
  CHECK_EQUAL(out.status, call_status::ok);
  CHECK(out.body.view().empty());
  out = classify_curl_call(answered(check_call(), 400, "bad list\r\n"));
  CHECK_EQUAL(out.status, call_status::http_error);
  CHECK_EQUAL(out.http_status, 400u);
  CHECK_EQUAL(out.detail, "HTTP 400: bad list");
  CHECK(out.request_sent);
  out = classify_curl_call(answered(results_call(), 500));
  CHECK_EQUAL(out.status, call_status::http_error);
  CHECK_EQUAL(out.detail, "HTTP 500");
  CHECK(out.body.view().empty());
  out = classify_curl_call(answered(results_call(), 301, "\n\n"));
  CHECK_EQUAL(out.detail, "HTTP 301");
  MESSAGE("the excerpt is the answer's first 200 bytes");
  auto long_answer = std::string(150, 'a') + std::string(100, 'b');
  out = classify_curl_call(answered(results_call(), 404, long_answer));
  CHECK_EQUAL(out.detail,
              "HTTP 404: " + std::string(150, 'a') + std::string(50, 'b'));
}
