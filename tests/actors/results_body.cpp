#define CAF_SUITE results_body

#include "actors/results_body.hpp"

#include "support/test.hpp"

#include <vector>

using namespace netpol;

namespace {

const std::string entry
  = R"({"address":"10.128.2.51","port":8080,"connectionidx":0,)"
    R"("npname":"ingress-0-1","timestamp":"2024-10-01T11:18:33.247061614Z"})";

/// A visited entry with its views copied.
struct seen_entry {
  results_entry fields;
  std::string address, npname, timestamp;
};

/// Validates with a visitor; the entries it saw.
std::vector<seen_entry> visit(std::string_view body, results_check* out = nullptr) {
  std::vector<seen_entry> seen;
  auto check = validate_results_body(body, [&](const results_entry& e) {
    seen.push_back({e, std::string{e.address}, std::string{e.npname},
                    std::string{e.timestamp}});
  });
  if (out)
    *out = check;
  return seen;
}

bool ok(std::string_view body) {
  return validate_results_body(body).ok;
}

} // namespace

TEST(connTest arrays pass and are counted) {
  auto check = validate_results_body("[]");
  CHECK(check.ok);
  CHECK_EQUAL(check.entries, 0u);
  check = validate_results_body("[" + entry + "," + entry + "]\n");
  CHECK(check.ok);
  CHECK_EQUAL(check.entries, 2u);
}

TEST(null is an empty result and a null element a zero entry as in Go) {
  auto check = validate_results_body(" null\n");
  CHECK(check.ok);
  CHECK_EQUAL(check.entries, 0u);
  check = validate_results_body("[null," + entry + ",null]");
  CHECK(check.ok);
  CHECK_EQUAL(check.entries, 3u);
}

TEST(unknown fields of any shape pass with a syntax check only) {
  auto check = validate_results_body(
    R"([{"address":"a","extra":{"x":[1,{"y":null}]},"more":[["z"]]}])");
  CHECK(check.ok);
  CHECK_EQUAL(check.entries, 1u);
  MESSAGE("Go does not store these numbers, so any magnitude passes");
  CHECK(ok(R"([{"x":1e999,"y":-1e-999,"z":)" + std::string(500, '9') + "}]"));
  CHECK(!ok(R"([{"x":[1,]}])"));
}

TEST(anything but null or an array of objects and nulls fails with a reason) {
  for (auto body : {"{}", "\"x\"", "42", "true", "[1]", "[[]]", "[\"a\"]",
                    "[false]"}) {
    auto check = validate_results_body(body);
    CHECK(!check.ok);
    CHECK(!check.error.empty());
  }
  CHECK_EQUAL(validate_results_body("[1]").error,
              "entry 0 is not an object: got a number");
  CHECK_EQUAL(validate_results_body("{}").error,
              "expected a JSON array of objects, got an object");
}

TEST(known fields must have the types kube-burner decodes) {
  auto check = validate_results_body(R"([{"port":"8080"}])");
  CHECK(!check.ok);
  CHECK_EQUAL(check.error,
              "entry 0: field \"port\" must be an integer, got a string");
  CHECK(!ok(R"([{"connectionidx":1.5}])"));
  CHECK(!ok(R"([{"port":1.0}])"));
  CHECK(!ok(R"([{"port":1e2}])"));
  CHECK(!ok(R"([{"address":7}])"));
  CHECK(!ok(R"([{"npname":["x"]}])"));
  CHECK(!ok(R"([{"timestamp":{}}])"));
  CHECK(!ok(R"([{"timestamp":1727781513}])"));
  CHECK(!ok(R"([{"timestamp":"2024-13-45T25:61:61Z"}])"));
  CHECK(!ok(R"([{"timestamp":"yesterday"}])"));
}

TEST(integers in range and null pass as in Go) {
  CHECK(ok(R"([{"port":null,"timestamp":null,"address":null}])"));
  CHECK(ok(R"([{"port":2147483647,"connectionidx":-1}])"));
  CHECK(ok(R"([{"port":-2147483648,"connectionidx":-9223372036854775808}])"));
  CHECK(ok(R"([{"port":-0}])"));
  auto check = validate_results_body(R"([{"port":2147483648}])");
  CHECK(!check.ok);
  CHECK_EQUAL(check.error, "entry 0: field \"port\" out of range: 2147483648");
  CHECK(!ok(R"([{"port":-2147483649}])"));
  CHECK(!ok(R"([{"connectionidx":9223372036854775808}])"));
  CHECK(!ok(R"([{"connectionidx":-9223372036854775809}])"));
  CHECK(!ok(R"([{"connectionidx":18446744073709551616}])"));
}

TEST(field names match as Go folds them) {
  MESSAGE("ASCII case, after unescaping");
  CHECK(!ok(R"([{"PORT":"eighty"}])"));
  CHECK(!ok(R"([{"AdDrEsS":1}])"));
  CHECK_EQUAL(validate_results_body(R"([{"\u0070ort":"80"}])").error,
              "entry 0: field \"port\" must be an integer, got a string");
  MESSAGE("U+017F (long s) is an 's', raw or escaped");
  CHECK(!ok("[{\"addre\xC5\xBFs\":7}]"));
  CHECK(!ok(R"([{"time\u017ftamp":"x"}])"));
  MESSAGE("near misses and other Unicode letters are unknown fields");
  CHECK(ok(R"([{"ports":"x","port ":"x","connection_idx":"x"}])"));
  CHECK(ok("[{\"port\xE2\x84\xAA\":\"x\",\"connect\xC4\xB1onidx\":\"x\"}]"));
  CHECK(ok("[{\"port\xFF\":\"x\"}]"));
}

TEST(every occurrence of a key is decoded and the last non-null wins) {
  CHECK(!ok(R"([{"port":1,"Port":"x"}])"));
  CHECK(!ok(R"([{"port":"x","port":1}])"));
  auto seen = visit(R"([{"port":1,"PORT":2,"port":null,"address":"a",)"
                    R"("Address":"b","ADDRESS":null}])");
  REQUIRE_EQUAL(seen.size(), 1u);
  CHECK_EQUAL(seen[0].fields.port, 2);
  CHECK_EQUAL(seen[0].address, "b");
}

TEST(strings are any JSON string and raw control characters fail) {
  CHECK(ok("[{\"npname\":\"caf\xE9\",\"address\":\"\xFF\xC0\xAF\xED\xA0\x80\"}]"));
  CHECK(ok(R"([{"address":"\ud800","npname":"\udc00\ud800x"}])"));
  CHECK(ok("[{\"address\":\"a\x7F\"}]"));
  CHECK(!ok("[{\"address\":\"a\tb\"}]"));
  CHECK(!ok(std::string{"[{\"x\":\"a\0b\"}]", 12}));
  CHECK(!ok(R"([{"x":"\q"}])"));
  CHECK(!ok(R"([{"x":"\u12g4"}])"));
}

TEST(broken JSON fails with the byte offset) {
  auto check = validate_results_body(R"([{"address": "10.0.0.1", "port": 80,)");
  CHECK(!check.ok);
  CHECK_EQUAL(check.error.rfind("invalid JSON at byte", 0), 0u);
  for (std::string body :
       std::vector<std::string>{"", " ", "[] []", "[]x", "[] ,\"q\":1", std::string{"[]\0garbage", 10},
        "\xEF\xBB\xBF[]", "\x0C[]", "[{\"x\":01}]", "[-]", "[{\"x\":1.}]",
        "[{\"x\":1e}]", "[{\"x\":nul}]", "[{\"x\":1,}]", "[{}", "[{\"x\"}]",
        "[{1:2}]", "[{},]", "nulll"}) {
    auto check = validate_results_body(body);
    CHECK(!check.ok);
    CHECK_EQUAL(check.error.rfind("invalid JSON at byte", 0), 0u);
  }
}

TEST(nesting is bounded as Go bounds it inside the results object) {
  auto deep = [](size_t levels) {
    return "[{\"x\":" + std::string(levels - 2, '[')
           + std::string(levels - 2, ']') + "}]";
  };
  CHECK(ok(deep(9999)));
  auto check = validate_results_body(deep(10000));
  CHECK(!check.ok);
  CHECK_EQUAL(check.error.rfind("invalid JSON at byte 10003: nested deeper", 0),
              0u);
  MESSAGE("a value nested a million deep is refused without recursion");
  CHECK(!ok(deep(1000000)));
}

TEST(timestamps as Go 1.19 time.Parse reads RFC 3339) {
  CHECK(is_go_rfc3339("2024-10-01T11:18:33.247061614Z"));
  CHECK(is_go_rfc3339("2024-10-01T11:18:33Z"));
  CHECK(is_go_rfc3339("2024-10-01T11:18:33.5+02:00"));
  CHECK(is_go_rfc3339("2024-10-01T11:18:33.123-07:30"));
  CHECK(!is_go_rfc3339("2024-10-01 11:18:33Z"));
  CHECK(!is_go_rfc3339("2024-10-01T11:18:33"));
  CHECK(!is_go_rfc3339("2024-10-01T11:18:33.Z"));
  CHECK(!is_go_rfc3339("2024-10-01T11:18:33+0200"));
  CHECK(!is_go_rfc3339("2024-10-01T11:18:33ZZ"));
  CHECK(!is_go_rfc3339("2024-10-01t11:18:33z"));
  MESSAGE("Go checks ranges");
  CHECK(is_go_rfc3339("2024-02-29T23:59:59Z"));
  CHECK(is_go_rfc3339("2000-02-29T00:00:00Z"));
  CHECK(!is_go_rfc3339("1900-02-29T00:00:00Z"));
  CHECK(!is_go_rfc3339("2023-02-29T00:00:00Z"));
  CHECK(!is_go_rfc3339("2024-13-01T00:00:00Z"));
  CHECK(!is_go_rfc3339("2024-04-31T00:00:00Z"));
  CHECK(!is_go_rfc3339("2024-10-01T24:00:00Z"));
  CHECK(!is_go_rfc3339("2024-10-01T11:60:00Z"));
  CHECK(!is_go_rfc3339("2024-10-01T11:18:60Z"));
  MESSAGE("and is lenient where RFC 3339 is not");
  CHECK(is_go_rfc3339("2024-10-01T1:18:33Z"));
  CHECK(!is_go_rfc3339("2024-10-01T11:8:33Z"));
  CHECK(is_go_rfc3339("2024-10-01T11:18:.5Z"));
  CHECK(!is_go_rfc3339("2024-10-01T11:18:Z"));
  CHECK(!is_go_rfc3339("2024-10-01T11:18:3.5Z"));
  CHECK(is_go_rfc3339("2024-10-01T11:18:33,5Z"));
  CHECK(is_go_rfc3339("2024-10-01T11:18:33.1234567891234Z"));
  CHECK(is_go_rfc3339("2024-10-01T11:18:33+24:00"));
  CHECK(is_go_rfc3339("2024-10-01T11:18:33+99:99"));
  CHECK(is_go_rfc3339("2024-10-01T11:18:33+-1:00"));
  CHECK(is_go_rfc3339("2024-10-01T11:18:33+01:-5"));
  CHECK(!is_go_rfc3339("2024-10-01T11:18:33+1:00"));
  CHECK(!is_go_rfc3339("2024-10-01T11:18:33+ 1:00"));
  MESSAGE("the raw text: an escape never parses");
  CHECK(!is_go_rfc3339("2024-10-01T11:18:33\\u005a"));
  CHECK(!ok(R"([{"timestamp":"2024-10-01T11:18:33\u005a"}])"));
}

TEST(timestamps convert to Unix seconds and nanoseconds) {
  int64_t seconds = 0;
  uint32_t nanos = 0;
  REQUIRE(is_go_rfc3339("2024-10-01T11:18:33.247061614Z", &seconds, &nanos));
  CHECK_EQUAL(seconds, 1727781513);
  CHECK_EQUAL(nanos, 247061614u);
  REQUIRE(is_go_rfc3339("1970-01-01T02:00:00.5+02:00", &seconds, &nanos));
  CHECK_EQUAL(seconds, 0);
  CHECK_EQUAL(nanos, 500000000u);
  REQUIRE(is_go_rfc3339("1970-01-01T00:00:00+-1:00", &seconds, &nanos));
  CHECK_EQUAL(seconds, 3600);
  MESSAGE("the first nine fractional digits count, the rest are dropped");
  REQUIRE(is_go_rfc3339("1969-12-31T23:59:59,9999999999Z", &seconds, &nanos));
  CHECK_EQUAL(seconds, -1);
  CHECK_EQUAL(nanos, 999999999u);
  MESSAGE("seconds left out before a fraction are zero");
  REQUIRE(is_go_rfc3339("1970-01-01T00:01:,25Z", &seconds, &nanos));
  CHECK_EQUAL(seconds, 60);
  CHECK_EQUAL(nanos, 250000000u);
  REQUIRE(is_go_rfc3339("0000-01-01T00:00:00Z", &seconds, &nanos));
  CHECK_EQUAL(seconds, -62167219200);
  REQUIRE(is_go_rfc3339("9999-12-31T23:59:59Z", &seconds, &nanos));
  CHECK_EQUAL(seconds, 253402300799);
}

TEST(the visitor sees each entry as Go decodes it) {
  results_check check;
  auto seen = visit(
    "[" + entry + R"(,null,{},{"ADDRESS":"a\u00e9\ud800\n","NpName":"caf)"
      "\xE9\"" R"(,"Port":-7,"CONNECTIONIDX":9223372036854775807,)"
      R"("extra":[1,{"port":"x"}],"timestamp":"2024-10-01T1:18:33,5+01:00"}])",
    &check);
  REQUIRE(check.ok);
  REQUIRE_EQUAL(seen.size(), 4u);
  CHECK_EQUAL(check.entries, 4u);
  for (uint32_t i = 0; i < 4; ++i)
    CHECK_EQUAL(seen[i].fields.index, i);
  auto& first = seen[0];
  CHECK(!first.fields.is_null);
  CHECK(first.fields.has_address && first.fields.has_npname
        && first.fields.has_port && first.fields.has_connectionidx
        && first.fields.has_timestamp);
  CHECK_EQUAL(first.address, "10.128.2.51");
  CHECK_EQUAL(first.npname, "ingress-0-1");
  CHECK_EQUAL(first.fields.port, 8080);
  CHECK_EQUAL(first.fields.connectionidx, 0);
  CHECK_EQUAL(first.timestamp, "2024-10-01T11:18:33.247061614Z");
  CHECK_EQUAL(first.fields.timestamp_seconds, 1727781513);
  CHECK_EQUAL(first.fields.timestamp_nanos, 247061614u);
  MESSAGE("null is a zero entry, {} an entry with nothing set");
  CHECK(seen[1].fields.is_null);
  CHECK(!seen[1].fields.has_address && !seen[1].fields.has_timestamp);
  CHECK(!seen[2].fields.is_null);
  CHECK(!seen[2].fields.has_address && !seen[2].fields.has_port);
  CHECK_EQUAL(seen[2].address, "");
  MESSAGE("folded keys; escapes resolved, a lone surrogate and invalid "
          "UTF-8 as U+FFFD; the timestamp raw");
  auto& last = seen[3];
  CHECK_EQUAL(last.address, "a\xC3\xA9\xEF\xBF\xBD\n");
  CHECK_EQUAL(last.npname, "caf\xEF\xBF\xBD");
  CHECK_EQUAL(last.fields.port, -7);
  CHECK_EQUAL(last.fields.connectionidx, 9223372036854775807);
  CHECK_EQUAL(last.timestamp, "2024-10-01T1:18:33,5+01:00");
  CHECK_EQUAL(last.fields.timestamp_seconds, 1727741913);
  CHECK_EQUAL(last.fields.timestamp_nanos, 500000000u);
}

TEST(the visitor stops where the body turns invalid) {
  results_check check;
  auto seen = visit("[" + entry + "," + entry + R"(,{"port":"x"},)" + entry
                      + "]",
                    &check);
  CHECK(!check.ok);
  CHECK_EQUAL(seen.size(), 2u);
  MESSAGE("a syntax error after the entries: they were seen, the body fails");
  seen = visit("[" + entry + "] x", &check);
  CHECK(!check.ok);
  CHECK_EQUAL(seen.size(), 1u);
  MESSAGE("a top-level null visits nothing");
  seen = visit("null", &check);
  CHECK(check.ok);
  CHECK(seen.empty());
}
