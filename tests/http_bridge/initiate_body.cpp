#define CAF_SUITE initiate_body

#include "http_bridge/initiate_body.hpp"

#include "actors/completeness.hpp"

#include "messages/error.hpp"
#include "support/test.hpp"

#include <nlohmann/json.hpp>

using namespace netpol;

namespace {

/// The error text for a body that must be refused as bad input.
std::string refusal(std::string_view body, size_t max_pods = 100) {
  auto plan = parse_initiate_body(body, max_pods);
  if (plan) {
    CAF_FAIL("accepted: " << body);
  }
  return detail_of(plan.error());
}

const std::string conn
  = R"({"addresses":["10.128.2.51","10.128.2.52"],"ports":[8080],"netpol":"ingress-0-1"})";

} // namespace

TEST(a valid body becomes one pod plan per IP with its list re-encoded) {
  auto body = R"({"10.128.2.50":[)" + conn + "," + conn
              + R"(], "fd00::12":[], "10.128.2.49":[)" + conn + "]}";
  auto plan = parse_initiate_body(body, 100);
  REQUIRE(plan);
  REQUIRE_EQUAL(plan->pods.size(), 3u);
  // In the order kube-burner sent them.
  CHECK_EQUAL(plan->pods[0].ip, "10.128.2.50");
  CHECK_EQUAL(plan->pods[1].ip, "fd00::12");
  CHECK_EQUAL(plan->pods[2].ip, "10.128.2.49");
  CHECK_EQUAL(plan->pods[0].connection_count, 2u);
  CHECK_EQUAL(plan->pods[1].connection_count, 0u);
  CHECK_EQUAL(plan->pods[1].connections.view(), "[]");
  CHECK_EQUAL(plan->pods[2].connections.view(), "[" + conn + "]");
  auto sent = nlohmann::json::parse(plan->pods[0].connections.view());
  auto original = nlohmann::json::parse(body)["10.128.2.50"];
  CHECK_EQUAL(sent, original);
}

TEST(unknown connection fields are passed through to the pod) {
  auto plan = parse_initiate_body(
    R"({"10.0.0.1":[{"addresses":[],"ports":[1,65535],"netpol":"n","x":1}]})",
    100);
  REQUIRE(plan);
  auto sent = nlohmann::json::parse(plan->pods[0].connections.view());
  CHECK_EQUAL(sent[0]["x"], 1);
}

TEST(bodies that are not a JSON object are refused) {
  CHECK_EQUAL(refusal("").rfind("body is not valid JSON", 0), 0u);
  CHECK_EQUAL(refusal("{").rfind("body is not valid JSON", 0), 0u);
  CHECK_EQUAL(refusal("{} x").rfind("body is not valid JSON", 0), 0u);
  CHECK_EQUAL(refusal("[]"), "body must be a JSON object mapping pod IPs to "
                             "connection arrays, got array");
  CHECK_EQUAL(refusal("\"10.0.0.1\""),
              "body must be a JSON object mapping pod IPs to connection "
              "arrays, got string");
}

TEST(keys must be unique IP addresses) {
  CHECK_EQUAL(refusal(R"({"pod-a":[]})"),
              "key \"pod-a\" is not a pod IP address (IPv4 or IPv6)");
  CHECK_EQUAL(refusal(R"({"":[]})"),
              "key \"\" is not a pod IP address (IPv4 or IPv6)");
  CHECK_EQUAL(refusal(R"({"10.0.0.1:9001":[]})"),
              "key \"10.0.0.1:9001\" is not a pod IP address (IPv4 or IPv6)");
  CHECK_EQUAL(refusal(R"({"[fd00::1]":[]})"),
              "key \"[fd00::1]\" is not a pod IP address (IPv4 or IPv6)");
  CHECK_EQUAL(refusal(R"({"10.0.0.256":[]})"),
              "key \"10.0.0.256\" is not a pod IP address (IPv4 or IPv6)");
  CHECK_EQUAL(refusal(R"({"10.0.0.1":[],"10.0.0.1":[]})"),
              "pod \"10.0.0.1\" appears more than once");
}

TEST(every connection field is checked and the culprit named) {
  CHECK_EQUAL(refusal(R"({"10.0.0.1":{}})"),
              "pod \"10.0.0.1\": value must be an array of connections, got "
              "object");
  CHECK_EQUAL(refusal(R"({"10.0.0.1":[7]})"),
              "pod \"10.0.0.1\": connection 0: must be an object, got number");
  CHECK_EQUAL(refusal(R"({"10.0.0.1":[{"ports":[1],"netpol":"n"}]})"),
              "pod \"10.0.0.1\": connection 0: \"addresses\" must be an "
              "array of strings");
  CHECK_EQUAL(
    refusal(R"({"10.0.0.1":[{"addresses":[1],"ports":[1],"netpol":"n"}]})"),
    "pod \"10.0.0.1\": connection 0: \"addresses\"[0] must be a string, got "
    "number");
  CHECK_EQUAL(
    refusal(R"({"10.0.0.1":[{"addresses":[],"ports":"80","netpol":"n"}]})"),
    "pod \"10.0.0.1\": connection 0: \"ports\" must be an array of integers");
  for (auto port : {"0", "-1", "65536", "1.5", "\"80\"", "null"}) {
    auto body = std::string{R"({"10.0.0.1":[{"addresses":[],"ports":[80,)"}
                + port + R"(],"netpol":"n"}]})";
    CHECK_EQUAL(refusal(body),
                std::string{"pod \"10.0.0.1\": connection 0: \"ports\"[1] "
                            "must be an integer from 1 to 65535, got "}
                  + port);
  }
  CHECK_EQUAL(
    refusal(R"({"10.0.0.1":[{"addresses":[],"ports":[80],"netpol":3}]})"),
    "pod \"10.0.0.1\": connection 0: \"netpol\" must be a string");
}

TEST(nested values where strings or ports belong are refused) {
  CHECK_EQUAL(
    refusal(R"({"10.0.0.1":[{"addresses":[["a"]],"ports":[1],"netpol":"n"}]})"),
    "pod \"10.0.0.1\": connection 0: \"addresses\"[0] must be a string, got "
    "array");
  CHECK_EQUAL(
    refusal(R"({"10.0.0.1":[{"addresses":[],"ports":[80,{}],"netpol":"n"}]})"),
    "pod \"10.0.0.1\": connection 0: \"ports\"[1] must be an integer from 1 "
    "to 65535, got object");
  CHECK_EQUAL(
    refusal(R"({"10.0.0.1":[{"addresses":[],"ports":[],"netpol":{"a":1}}]})"),
    "pod \"10.0.0.1\": connection 0: \"netpol\" must be a string");
  CHECK_EQUAL(
    refusal(R"({"10.0.0.1":[{"addresses":[],"ports":[],"netpol":"n"},[]]})"),
    "pod \"10.0.0.1\": connection 1: must be an object, got array");
  MESSAGE("unknown fields may hold anything and are kept");
  auto plan = parse_initiate_body(
    R"({"10.0.0.1":[{"x":{"y":[1,{"z":null}]},"addresses":["a"],"ports":[1],"netpol":"n","w":[true,1.5e3]}]})",
    100);
  REQUIRE(plan);
  CHECK_EQUAL(plan->pods[0].connections.view(),
              R"([{"x":{"y":[1,{"z":null}]},"addresses":["a"],"ports":[1],"netpol":"n","w":[true,1.5e3]}])");
}

TEST(too many pods is refused as too large) {
  auto plan = parse_initiate_body(R"({"10.0.0.1":[],"10.0.0.2":[]})", 1);
  REQUIRE(!plan);
  CHECK_EQUAL(code_of(plan.error()), errc::too_large);
}

TEST(ip addresses) {
  CHECK(is_ip_address("10.0.0.1"));
  CHECK(is_ip_address("::1"));
  CHECK(is_ip_address("fd00:10:128::2:51"));
  CHECK(!is_ip_address("localhost"));
  CHECK(!is_ip_address("10.0.0"));
  CHECK(!is_ip_address(" 10.0.0.1"));
  CHECK(!is_ip_address("fe80::1%eth0"));
}

TEST(strings are re-encoded exactly as the JSON library would write them) {
  // Plain strings take a fast path; these need escapes or are not ASCII.
  auto body = std::string{R"({"10.0.0.1":[{"addresses":["a\"b","c\\d"],)"}
              + R"("ports":[80],"netpol":"tab\there\u0001\u007f é ✓",)"
              + R"("x\n":"\/"}]})";
  auto plan = parse_initiate_body(body, 100);
  REQUIRE(plan);
  // ordered_json keeps the fields in the order sent, as the proxy does.
  auto expected = nlohmann::ordered_json::parse(body)["10.0.0.1"].dump();
  CHECK_EQUAL(plan->pods[0].connections.view(), expected);
}

TEST(lists in the form kube-burner sends are rebuilt exactly from their tests) {
  auto plan = parse_initiate_body(
    R"({"10.0.0.1": [{"addresses": ["10.0.1.1", "10.0.1.2"], "ports": [8080, 9090], "netpol": "np-a"},
                     {"addresses": [], "ports": [8080], "netpol": "np-b"}],
        "10.0.0.2": [],
        "10.0.0.3": [{"netpol": "np-a", "addresses": ["10.0.1.1"], "ports": [8080]}],
        "10.0.0.4": [{"addresses": ["10.0.1.1", "10.0.1.1"], "ports": [8080], "netpol": "np-a"}],
        "10.0.0.5": [{"addresses": ["10.0.1.1"], "ports": [8080], "netpol": "np-\"q\""}],
        "10.0.0.6": [{"addresses": ["10.0.1.1"], "ports": [8080], "netpol": "np-a", "extra": 1}]})",
    100);
  REQUIRE(plan);
  REQUIRE_EQUAL(plan->pods.size(), 6u);
  REQUIRE(plan->catalog.ptr);
  auto& catalog = *plan->catalog.ptr;
  for (size_t i = 0; i < 2; ++i) {
    auto& pod = plan->pods[i];
    MESSAGE(pod.ip << ": " << pod.connections.view());
    CHECK(pod.canonical);
    CHECK_EQUAL(connections_json(catalog, pod.expected.view()),
                pod.connections.view());
  }
  MESSAGE("another key order, a repeat, an escape, an unknown field: the "
          "list must be kept as sent");
  for (size_t i = 2; i < 6; ++i)
    CHECK(!plan->pods[i].canonical);
  CHECK_EQUAL(plan->pods[0].tests, 4u);
  CHECK_EQUAL(plan->pods[3].tests, 1u);
}
