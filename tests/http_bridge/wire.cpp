#define CAF_SUITE wire

#include "http_bridge/wire.hpp"

#include "http_bridge/status_map.hpp"
#include "messages/error.hpp"
#include "support/test.hpp"

#include <caf/sec.hpp>
#include <nlohmann/json.hpp>

using namespace netpol;

TEST(status bodies carry result first and the counts kube-burner ignores) {
  round_status st;
  st.round = 3;
  st.current = phase::delivered;
  st.pods = 5;
  st.counts[static_cast<size_t>(pod_state::delivered)] = 4;
  st.counts[static_cast<size_t>(pod_state::failed)] = 1;
  st.delivered = 4;
  st.delivery_failed = 1;
  auto body = poll_json(st, true);
  CHECK_EQUAL(body.rfind("{\"result\":true,", 0), 0u);
  CHECK_EQUAL(body.back(), '\n');
  auto j = nlohmann::json::parse(body);
  CHECK_EQUAL(j["result"], true);
  CHECK_EQUAL(j["round"], 3);
  CHECK_EQUAL(j["phase"], "delivered");
  CHECK_EQUAL(j["delivered"], 4);
  CHECK_EQUAL(j["delivery_failed"], 1);
  CHECK_EQUAL(j["states"]["failed"], 1);
  CHECK_EQUAL(j["states"].size(), pod_state_count);
}

TEST(results stream as one object of the pod bytes unchanged) {
  results_snapshot snapshot;
  snapshot.pods.push_back(
    {"10.0.0.1", shared_bytes{R"([{"connectionidx":0,"timestamp":"2024-10-01T11:18:33.247061614Z"}])"}});
  snapshot.pods.push_back({"fd00::1", shared_bytes{"[]"}});
  results_writer writer{snapshot};
  std::string out;
  size_t batches = 0;
  MESSAGE("one byte per batch at most: still a pod per batch, never split");
  for (bool more = true; more; ++batches) {
    std::vector<std::string_view> pieces;
    more = writer.next(pieces, 1);
    for (auto piece : pieces)
      out += piece;
  }
  CHECK_EQUAL(batches, 2u);
  CHECK_EQUAL(out.size(), writer.size());
  CHECK_EQUAL(out, R"({"10.0.0.1":[{"connectionidx":0,"timestamp":"2024-10-01T11:18:33.247061614Z"}],"fd00::1":[]})"
                   "\n");
  auto j = nlohmann::json::parse(out);
  CHECK_EQUAL(j.size(), 2u);
}

TEST(no results is an empty object) {
  results_writer writer{results_snapshot{}};
  std::string out;
  std::vector<std::string_view> pieces;
  CHECK(!writer.next(pieces, 1 << 20));
  for (auto piece : pieces)
    out += piece;
  CHECK_EQUAL(out, "{}\n");
  CHECK_EQUAL(writer.size(), 3u);
}

TEST(errors map to HTTP statuses in one place) {
  CHECK_EQUAL(http_status_of(make_error(errc::initiate_refused)), 409);
  CHECK_EQUAL(http_status_of(make_error(errc::no_round)), 409);
  CHECK_EQUAL(http_status_of(make_error(errc::results_not_ready)), 409);
  CHECK_EQUAL(http_status_of(make_error(errc::bad_input, "x")), 400);
  CHECK_EQUAL(http_status_of(make_error(errc::too_large)), 413);
  CHECK_EQUAL(http_status_of(make_error(errc::unavailable)), 503);
  CHECK_EQUAL(http_status_of(caf::sec::request_timeout), 503);
  CHECK_EQUAL(http_status_of(caf::sec::runtime_error), 500);
  CHECK_EQUAL(error_code_of(make_error(errc::bad_input, "x")), "bad_input");
  CHECK_EQUAL(error_code_of(caf::sec::request_timeout), "unavailable");
  CHECK_EQUAL(detail_of(make_error(errc::bad_input, "why")), "why");
}

TEST(error bodies are JSON even for hostile bytes) {
  auto body = error_json("bad_input", "key \"\xff\" is bad");
  auto j = nlohmann::json::parse(body);
  CHECK_EQUAL(j["error"], "bad_input");
}

TEST(status reports survive error texts that are not UTF-8) {
  status_report report;
  pod_detail pod;
  pod.ip = "10.0.0.1";
  pod.collection_error = "bad results body: last read: '\"caf\xe9'";
  report.problems.push_back(pod);
  report.problems_total = 250; // more than are listed
  auto j = nlohmann::json::parse(status_report_json(report));
  CHECK_EQUAL(j["problems"][0]["pod"], "10.0.0.1");
  CHECK_EQUAL(j["problems_total"], 250);
}

TEST(the timeline is one column per state and only when asked) {
  status_report report;
  report.timeline.interval_ms = 250;
  report.timeline.at_ms = {0, 250};
  report.timeline.counts.assign(2 * pod_state_count, 0);
  report.timeline.counts[static_cast<size_t>(pod_state::queued)] = 3;
  report.timeline.counts[pod_state_count
                         + static_cast<size_t>(pod_state::delivered)] = 3;
  CHECK(
    !nlohmann::json::parse(status_report_json(report)).contains("timeline"));
  auto j = nlohmann::json::parse(status_report_json(report, true))["timeline"];
  CHECK_EQUAL(j["interval_ms"], 250);
  CHECK_EQUAL(j["at_ms"], nlohmann::json::parse("[0, 250]"));
  CHECK_EQUAL(j["states"].size(), pod_state_count);
  CHECK_EQUAL(j["states"]["queued"], nlohmann::json::parse("[3, 0]"));
  CHECK_EQUAL(j["states"]["delivered"], nlohmann::json::parse("[0, 3]"));
  CHECK_EQUAL(j["states"]["collect_failed"], nlohmann::json::parse("[0, 0]"));
}

TEST(the page settings carry the version and every setting) {
  auto j = nlohmann::json::parse(settings_json("--workers=20 --retries=3"));
  CHECK_EQUAL(j["version"], NETPOL_PROXY_VERSION);
  CHECK_EQUAL(j["settings"], "--workers=20 --retries=3");
}
