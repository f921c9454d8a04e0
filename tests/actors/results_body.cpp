#define CAF_SUITE results_body

#include "actors/results_body.hpp"

#include "support/test.hpp"

using namespace netpol;

namespace {

const std::string entry
  = R"({"address":"10.128.2.51","port":8080,"connectionidx":0,)"
    R"("npname":"ingress-0-1","timestamp":"2024-10-01T11:18:33.247061614Z"})";

} // namespace

TEST(connTest arrays pass and are counted) {
  auto check = validate_results_body("[]");
  CHECK(check.ok);
  CHECK_EQUAL(check.entries, 0u);
  check = validate_results_body("[" + entry + "," + entry + "]\n");
  CHECK(check.ok);
  CHECK_EQUAL(check.entries, 2u);
}

TEST(unknown fields of any shape pass as in the Go decoder) {
  auto check = validate_results_body(
    R"([{"address":"a","extra":{"x":[1,{"y":null}]},"more":[["z"]]}])");
  CHECK(check.ok);
  CHECK_EQUAL(check.entries, 1u);
}

TEST(anything but an array of objects fails with a reason) {
  for (auto body : {"{}", "\"x\"", "42", "null", "[1]", "[[]]", "[\"a\"]"}) {
    auto check = validate_results_body(body);
    CHECK(!check.ok);
    CHECK(!check.error.empty());
  }
  CHECK_EQUAL(validate_results_body("[1]").error,
              "entry 0 is not an object");
}

TEST(known fields must have the types kube-burner decodes) {
  auto check = validate_results_body(R"([{"port":"8080"}])");
  CHECK(!check.ok);
  CHECK_EQUAL(check.error,
              "entry 0: field \"port\" must be an integer, got string");
  CHECK(!validate_results_body(R"([{"connectionidx":1.5}])").ok);
  CHECK(!validate_results_body(R"([{"address":7}])").ok);
  CHECK(!validate_results_body(R"([{"npname":["x"]}])").ok);
  CHECK(!validate_results_body(R"([{"timestamp":{}}])").ok);
  CHECK(!validate_results_body(R"([{"timestamp":"2024-13-45T25:61:61Z"}])").ok);
  CHECK(!validate_results_body(R"([{"timestamp":"yesterday"}])").ok);
}

TEST(values kube-burner cannot decode fail and null passes as in Go) {
  CHECK(validate_results_body(R"([{"port":null,"timestamp":null}])").ok);
  CHECK(validate_results_body(R"([{"port":2147483647,"connectionidx":-1}])").ok);
  auto check = validate_results_body(R"([{"port":2147483648}])");
  CHECK(!check.ok);
  CHECK_EQUAL(check.error, "entry 0: field \"port\" out of range: 2147483648");
  CHECK(!validate_results_body(R"([{"port":-2147483649}])").ok);
  CHECK(!validate_results_body(R"([{"connectionidx":9223372036854775808}])").ok);
}

TEST(broken JSON fails with the byte offset) {
  auto check = validate_results_body(R"([{"address": "10.0.0.1", "port": 80,)");
  CHECK(!check.ok);
  CHECK_EQUAL(check.error.rfind("invalid JSON at byte", 0), 0u);
  CHECK(!validate_results_body("").ok);
  CHECK(!validate_results_body("[] []").ok);
  CHECK(!validate_results_body("[{\"address\":\"\xff\"}]").ok);
  // nlohmann's parser stops at a NUL and took this; Go's decoder does not.
  CHECK(!validate_results_body(std::string{"[]\0garbage", 10}).ok);
}

TEST(RFC 3339 timestamps as Go writes them) {
  CHECK(is_rfc3339("2024-10-01T11:18:33.247061614Z"));
  CHECK(is_rfc3339("2024-10-01T11:18:33Z"));
  CHECK(is_rfc3339("2024-10-01T11:18:33.5+02:00"));
  CHECK(is_rfc3339("2024-10-01T11:18:33.123-07:30"));
  CHECK(!is_rfc3339("2024-10-01 11:18:33Z"));
  CHECK(!is_rfc3339("2024-10-01T11:18:33"));
  CHECK(!is_rfc3339("2024-10-01T11:18:33.Z"));
  CHECK(!is_rfc3339("2024-10-01T11:18:33+0200"));
  CHECK(!is_rfc3339("2024-10-01T11:18:33ZZ"));
  MESSAGE("Go checks ranges and wants uppercase T and Z");
  CHECK(is_rfc3339("2024-02-29T23:59:59Z"));
  CHECK(!is_rfc3339("2023-02-29T00:00:00Z"));
  CHECK(!is_rfc3339("2024-13-01T00:00:00Z"));
  CHECK(!is_rfc3339("2024-04-31T00:00:00Z"));
  CHECK(!is_rfc3339("2024-10-01T24:00:00Z"));
  CHECK(!is_rfc3339("2024-10-01T11:60:00Z"));
  CHECK(!is_rfc3339("2024-10-01T11:18:60Z"));
  CHECK(!is_rfc3339("2024-10-01T11:18:33+24:00"));
  CHECK(!is_rfc3339("2024-10-01t11:18:33z"));
}

TEST(the scanner reads JSON by the same rules as the JSON library) {
  MESSAGE("accepted: a byte order mark, escapes, any number form elsewhere");
  CHECK(validate_results_body("\xEF\xBB\xBF[]").ok);
  CHECK(validate_results_body(R"([{"x":[1.5e3,-0,true,null,{"y":"\u00e9\ud83d\ude00"}]}])").ok);
  CHECK(validate_results_body(" [ { \"npname\" : \"caf\xC3\xA9\" } ] \n").ok);
  MESSAGE("an escaped key is the field it spells");
  CHECK_EQUAL(validate_results_body(R"([{"\u0070ort":"80"}])").error,
              "entry 0: field \"port\" must be an integer, got string");
  MESSAGE("refused: what nlohmann::json refuses too");
  for (std::string body :
       {"[{\"x\":01}]", "[-]", "[1.]", "[1e]", "[{\"x\":1e400}]", "[{\"x\":nul}]",
        "[{\"x\":\"\\ud800\"}]", "[{\"x\":\"\\udc00\"}]", "[{\"x\":\"\\q\"}]",
        "[{\"x\":\"\xC0\xAF\"}]", "[{\"x\":\"\xED\xA0\x80\"}]",
        "[{\"x\":\"\xF4\x90\x80\x80\"}]", "[{\"x\":\"a\tb\"}]", "\xEF\xBB[]",
        "[{\"x\":1,}]", "[{}", "[{\"x\"}]", "[{1:2}]"}) {
    auto check = validate_results_body(body);
    CHECK(!check.ok);
    CHECK_EQUAL(check.error.rfind("invalid JSON at byte", 0), 0u);
  }
  MESSAGE("a value nested a million deep is read without recursion");
  std::string deep = "[{\"x\":" + std::string(1000000, '[')
                     + std::string(1000000, ']') + "}]";
  CHECK(validate_results_body(deep).ok);
}
