#define CAF_SUITE results_log

#include "client/results_log.hpp"

#include "actors/results_body.hpp"
#include "support/test.hpp"

using namespace netpol::client;
using namespace std::chrono_literals;
using wall = std::chrono::system_clock;

namespace {

std::string go_string(std::string_view text) {
  std::string out;
  append_go_json_string(out, text);
  return out;
}

wall::time_point at(int64_t seconds, int64_t nanos) {
  return wall::time_point{std::chrono::duration_cast<wall::duration>(
    std::chrono::seconds{seconds} + std::chrono::nanoseconds{nanos})};
}

} // namespace

TEST(strings as the encoder of Go writes them) {
  CHECK_EQUAL(go_string("ingress-0-1"), "\"ingress-0-1\"");
  CHECK_EQUAL(go_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  MESSAGE("HTML escaping, on by default in json.Encoder");
  CHECK_EQUAL(go_string("<a>&"), "\"\\u003ca\\u003e\\u0026\"");
  MESSAGE("control characters: \\n \\r \\t by name, others as \\u00XX "
          "(\\b and \\f too, as Go before 1.22 writes them)");
  CHECK_EQUAL(go_string("\n\r\t\b\f\x01\x1f"),
              "\"\\n\\r\\t\\u0008\\u000c\\u0001\\u001f\"");
  CHECK_EQUAL(go_string("\x7f"), "\"\x7f\"");
  MESSAGE("UTF-8 passes; U+2028 and U+2029 are escaped; invalid bytes "
          "become \\ufffd one by one");
  CHECK_EQUAL(go_string("\xC3\xA9\xF0\x9F\x98\x80"),
              "\"\xC3\xA9\xF0\x9F\x98\x80\"");
  CHECK_EQUAL(go_string("\xE2\x80\xA8\xE2\x80\xA9"), "\"\\u2028\\u2029\"");
  CHECK_EQUAL(go_string("\xFF\xC3"), "\"\\ufffd\\ufffd\"");
  CHECK_EQUAL(go_string("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
  CHECK_EQUAL(go_string("\xC0\xAF"), "\"\\ufffd\\ufffd\"");
}

TEST(timestamps as time.Time of Go writes them in UTC) {
  CHECK_EQUAL(go_time_text(at(1727781513, 247061614)),
              "2024-10-01T11:18:33.247061614Z");
  MESSAGE("trailing zeros of the fraction are cut; none when it is zero");
  CHECK_EQUAL(go_time_text(at(1727781513, 247060000)),
              "2024-10-01T11:18:33.24706Z");
  CHECK_EQUAL(go_time_text(at(1727781513, 100000000)),
              "2024-10-01T11:18:33.1Z");
  CHECK_EQUAL(go_time_text(at(1727781513, 0)), "2024-10-01T11:18:33Z");
  CHECK_EQUAL(go_time_text(at(1727781513, 1)),
              "2024-10-01T11:18:33.000000001Z");
  CHECK_EQUAL(go_time_text(at(0, 0)), "1970-01-01T00:00:00Z");
  CHECK_EQUAL(go_time_text(at(-1, 500000000)), "1969-12-31T23:59:59.5Z");
  CHECK_EQUAL(go_time_text(at(951782400, 0)), "2000-02-29T00:00:00Z");
}

TEST(the body only grows: every answer is a prefix of the next) {
  results_log log;
  CHECK_EQUAL(log.body(), "[]\n");
  probe_test a{"10.0.0.1", 8080, 0, "np-a", 0};
  probe_test b{"fd00::2", 9090, 3, "np<b>", 1};
  log.add(a, at(1727781513, 247061614));
  auto one = log.body();
  CHECK_EQUAL(one, "[{\"address\":\"10.0.0.1\",\"port\":8080,"
                   "\"connectionidx\":0,\"npname\":\"np-a\","
                   "\"timestamp\":\"2024-10-01T11:18:33.247061614Z\"}]\n");
  log.add(b, at(1727781514, 0));
  auto two = log.body();
  CHECK_EQUAL(log.entries(), 2u);
  MESSAGE("all of the first answer but its closing `]` starts the second");
  CHECK_EQUAL(two.compare(0, one.size() - 2, one, 0, one.size() - 2), 0);
  MESSAGE("and the proxy's Go-exact scanner reads both entries back");
  std::vector<std::string> npnames;
  auto check = netpol::validate_results_body(
    two, [&](const netpol::results_entry& e) {
      npnames.emplace_back(e.npname);
      CHECK(e.has_timestamp);
    });
  CHECK(check.ok);
  CHECK_EQUAL(check.entries, 2u);
  CHECK_EQUAL(npnames, (std::vector<std::string>{"np-a", "np<b>"}));
}
