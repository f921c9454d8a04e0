#define CAF_SUITE round_samples

#include "actors/round_samples.hpp"

#include "support/test.hpp"

using namespace netpol;

namespace {

pod_outcome answer(std::string body, uint32_t entries) {
  pod_outcome out;
  out.body = shared_bytes{std::move(body)};
  out.entries = entries;
  return out;
}

} // namespace

TEST(an answer with entries added at the end extends the last one) {
  CHECK(extends("[{\"a\":1}]\n", 1, "[{\"a\":1},{\"b\":2}]\n"));
  CHECK(extends("[{\"a\":1}]", 1, "[{\"a\":1}]"));
  MESSAGE("indented, as an encoder with indentation writes it");
  CHECK(extends("[\n  {\"a\":1}\n]\n", 1, "[\n  {\"a\":1},\n  {\"b\":2}\n]\n"));
  MESSAGE("nothing is extended by anything");
  CHECK(extends("[]\n", 0, "[{\"a\":1}]"));
  CHECK(extends("null\n", 0, "[]"));
}

TEST(a shorter or different answer does not extend the last one) {
  CHECK(!extends("[{\"a\":1}]", 1, "[]"));
  CHECK(!extends("[{\"a\":1}]", 1, "null"));
  CHECK(!extends("[{\"a\":1},{\"b\":2}]", 2, "[{\"a\":1}]"));
  CHECK(!extends("[{\"a\":1}]", 1, "[{\"a\":2}]"));
  MESSAGE("a longer value is not an added entry");
  CHECK(!extends("[{\"a\":1}]", 1, "[{\"a\":12}]"));
}

TEST(samples keep the latest that extends and count the rest) {
  round_samples samples;
  auto a = answer("[{\"a\":1}]", 1);
  CHECK(samples.take(0, a, 1000) == sample_taken::first);
  auto ab = answer("[{\"a\":1},{\"b\":2}]", 2);
  CHECK(samples.take(0, ab, 2000) == sample_taken::extended);
  REQUIRE(samples.find(0) != nullptr);
  CHECK_EQUAL(samples.find(0)->entries, 2u);
  CHECK_EQUAL(samples.find(0)->taken_unix_ms, 2000);
  MESSAGE("the pod restarted: the sample stays, the first such time is kept");
  auto empty = answer("[]", 0);
  CHECK(samples.take(0, empty, 3000) == sample_taken::not_extending);
  auto again = answer("[]", 0);
  CHECK(samples.take(0, again, 4000) == sample_taken::not_extending);
  CHECK_EQUAL(samples.find(0)->body.view(), "[{\"a\":1},{\"b\":2}]");
  CHECK_EQUAL(samples.find(0)->taken_unix_ms, 2000);
  CHECK_EQUAL(samples.find(0)->restart_seen_unix_ms, 3000);
  CHECK_EQUAL(samples.find(0)->not_extending, 2u);
  CHECK_EQUAL(samples.restarted, 1u);
  CHECK_EQUAL(samples.taken, 4u);
  CHECK(samples.find(1) == nullptr);
}
