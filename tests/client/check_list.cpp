#define CAF_SUITE check_list

#include "client/check_list.hpp"

#include "support/test.hpp"

using namespace netpol::client;

namespace {

check_list parse_ok(std::string_view body) {
  auto parsed = parse_check_body(body);
  if (!parsed.list)
    CAF_FAIL("refused " << std::string{body} << ": " << parsed.error);
  return std::move(*parsed.list);
}

std::string refusal(std::string_view body) {
  auto parsed = parse_check_body(body);
  if (parsed.list)
    CAF_FAIL("took " << std::string{body});
  return parsed.error;
}

bool mentions(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST(each address times each port is one test with its connection index) {
  auto list = parse_ok(R"([
    {"addresses":["10.0.0.1","10.0.0.2"],"ports":[8080,8081],"netpol":"a"},
    {"addresses":["10.0.0.3"],"ports":[8080],"netpol":"b"}])");
  CHECK_EQUAL(list.connections, 2u);
  REQUIRE_EQUAL(list.tests.size(), 5u);
  CHECK_EQUAL(list.tests[0].address, "10.0.0.1");
  CHECK_EQUAL(list.tests[0].port, 8080);
  CHECK_EQUAL(list.tests[1].port, 8081);
  CHECK_EQUAL(list.tests[2].address, "10.0.0.2");
  CHECK_EQUAL(list.tests[3].connection_index, 0);
  CHECK_EQUAL(list.tests[4].connection_index, 1);
  CHECK_EQUAL(list.tests[4].netpol, "b");
  CHECK_EQUAL(list.targets.size(), 5u);
}

TEST(tests naming the same address and port share one target) {
  auto list = parse_ok(R"([
    {"addresses":["10.0.0.1"],"ports":[8080],"netpol":"a"},
    {"addresses":["10.0.0.2","10.0.0.1"],"ports":[8080],"netpol":"b"}])");
  REQUIRE_EQUAL(list.tests.size(), 3u);
  REQUIRE_EQUAL(list.targets.size(), 2u);
  CHECK_EQUAL(list.targets[0].address, "10.0.0.1");
  CHECK_EQUAL(list.targets[0].tests, (std::vector<size_t>{0, 2}));
  CHECK_EQUAL(list.tests[2].target, 0u);
  CHECK_EQUAL(list.tests[2].connection_index, 1);
}

TEST(the decoding rules of Go) {
  MESSAGE("null and [] are lists of no tests");
  CHECK_EQUAL(parse_ok("null").tests.size(), 0u);
  CHECK_EQUAL(parse_ok(" [ ] \n").connections, 0u);
  MESSAGE("a null element is a connection with no tests, and counts");
  auto with_null = parse_ok(
    R"([null,{"addresses":["10.0.0.1"],"ports":[80],"netpol":"x"}])");
  CHECK_EQUAL(with_null.connections, 2u);
  CHECK_EQUAL(with_null.tests.at(0).connection_index, 1);
  MESSAGE("keys match case-insensitively, with 'ſ' for 's'; other keys are "
          "ignored whatever they hold");
  auto folded = parse_ok("[{\"ADDRESSES\":[\"10.0.0.1\"],\"Port\xC5\xBF\":[80],"
                         "\"NetPol\":\"x\",\"extra\":{\"a\":[1,{\"b\":null}]},"
                         "\"ports2\":\"no\"}]");
  REQUIRE_EQUAL(folded.tests.size(), 1u);
  CHECK_EQUAL(folded.tests[0].port, 80);
  CHECK_EQUAL(folded.tests[0].netpol, "x");
  MESSAGE("a repeated key is decoded again: the last wins; null empties a "
          "list and leaves a string as it was");
  auto repeated = parse_ok(R"([{"ports":[1,2],"addresses":["10.0.0.1"],
    "ports":[3],"netpol":"a","netpol":null,"Netpol":"b"}])");
  REQUIRE_EQUAL(repeated.tests.size(), 1u);
  CHECK_EQUAL(repeated.tests[0].port, 3);
  CHECK_EQUAL(repeated.tests[0].netpol, "b");
  CHECK_EQUAL(parse_ok(R"([{"addresses":["10.0.0.1"],"ports":[1],
    "ports":null}])").tests.size(), 0u);
  MESSAGE("escapes are decoded; -0 is the integer 0 (then refused as a port)");
  auto escaped = parse_ok(R"([{"addresses":["10.0.0.1"],"ports":[80],
    "netpol":"a\u00e9\"\\"}])");
  CHECK_EQUAL(escaped.tests.at(0).netpol, "a\xC3\xA9\"\\");
  CHECK(mentions(refusal(R"([{"addresses":["10.0.0.1"],"ports":[-0]}])"),
                 "port 0 "));
}

TEST(what does not parse is refused with the reason) {
  CHECK(mentions(refusal(""), "not JSON"));
  CHECK(mentions(refusal("[{]"), "not JSON at byte"));
  CHECK(mentions(refusal("[] x"), "not JSON"));
  CHECK(mentions(refusal("\xEF\xBB\xBF[]"), "byte order mark"));
  CHECK(mentions(refusal("{}"), "must be an array of connections"));
  CHECK(mentions(refusal("3"), "must be an array of connections"));
  CHECK(mentions(refusal("[3]"), "element 0"));
  CHECK(mentions(refusal("[[]]"), "an element is an array"));
  CHECK(mentions(refusal(R"([{"ports":[80.0]}])"), "not an integer"));
  CHECK(mentions(refusal(R"([{"ports":[1e2]}])"), "not an integer"));
  CHECK(mentions(refusal(R"([{"ports":[9223372036854775808]}])"),
                 "beyond Go's int"));
  CHECK(mentions(refusal(R"([{"ports":["80"]}])"), "\"ports\" must be"));
  CHECK(mentions(refusal(R"([{"ports":80}])"), "\"ports\" must be"));
  CHECK(mentions(refusal(R"([{"addresses":[1]}])"), "\"addresses\" must be"));
  CHECK(mentions(refusal(R"([{"addresses":[["a"]]}])"), "inside it"));
  CHECK(mentions(refusal(R"([{"netpol":{}}])"), "\"netpol\" must be"));
  CHECK(mentions(refusal(R"([{},{"netpol":1}])"), "connection 1"));
  CHECK(mentions(refusal("[{\"netpol\":\"\xFF\"}]"), "not JSON"));
}

TEST(a list that could never be tested is refused) {
  CHECK(mentions(refusal(R"([{"addresses":["10.0.0.1"],"ports":[70000]}])"),
                 "port 70000 is not in 1-65535"));
  CHECK(mentions(refusal(R"([{"addresses":["10.0.0.1"],"ports":[0]}])"),
                 "port 0"));
  CHECK(mentions(refusal(R"([{"addresses":["10.0.0.1"],"ports":[null]}])"),
                 "port 0"));
  CHECK(mentions(refusal(R"([{"addresses":[""],"ports":[80]}])"),
                 "neither an IP address nor a host name"));
  CHECK(mentions(refusal(R"([{"addresses":["1.2.3.256"],"ports":[80]}])"),
                 "\"1.2.3.256\""));
  CHECK(mentions(refusal(R"([{"addresses":["10.0.0.1:80"],"ports":[80]}])"),
                 "neither"));
  MESSAGE("an address without ports, or ports without addresses, is no test");
  CHECK_EQUAL(parse_ok(R"([{"addresses":["10.0.0.1"]}])").tests.size(), 0u);
  CHECK_EQUAL(parse_ok(R"([{"ports":[80]}])").tests.size(), 0u);
}

TEST(addresses and host names) {
  for (auto good : {"10.0.0.1", "fd00::12", "::1", "2001:db8::1"})
    CHECK(is_ip_literal(good));
  for (auto bad : {"", "10.0.0", "10.0.0.01", "[::1]", "fe80::1%eth0", "x"})
    CHECK(!is_ip_literal(bad));
  for (auto good : {"web", "web-0.ns.svc.cluster.local", "a.b.", "x1"})
    CHECK(is_host_name(good));
  std::vector<std::string> bad_names{"",    "-a",  "a-",
                                     "a..b", "a_b", "1.2.3.4",
                                     "a b", std::string(254, 'a'),
                                     std::string(64, 'a')};
  for (auto& bad : bad_names)
    CHECK(!is_host_name(bad));
}
