#include "common/http/recordio.hpp"

#include "common/http/http.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace dcos;
using Records = std::vector<std::string>;

TEST_SUITE("recordio") {

TEST_CASE("a record split across many pieces comes out once it is complete") {
  http::RecordIoDecoder decoder;
  std::string stream = http::recordIoFrame(R"({"type":"SUBSCRIBED"})") + http::recordIoFrame("second");
  Records got;
  for (char c : stream) {
    auto r = decoder.feed(std::string_view(&c, 1));
    REQUIRE(r.ok());
    got.insert(got.end(), r->begin(), r->end());
  }
  CHECK(got == Records{R"({"type":"SUBSCRIBED"})", "second"});
  CHECK(decoder.atRecordBoundary());
}

TEST_CASE("several records in one piece come out in order") {
  http::RecordIoDecoder decoder;
  auto r = decoder.feed(http::recordIoFrame("a") + http::recordIoFrame("") + http::recordIoFrame("ccc") + "4\nde");
  REQUIRE(r.ok());
  CHECK(*r == Records{"a", "", "ccc"});
  CHECK_FALSE(decoder.atRecordBoundary());
  auto rest = decoder.feed("fg");
  REQUIRE(rest.ok());
  CHECK(*rest == Records{"defg"});
  CHECK(decoder.atRecordBoundary());
}

TEST_CASE("a record holding newlines and length-like text is taken by its length only") {
  http::RecordIoDecoder decoder;
  std::string tricky = "3\nabc\n12\n";
  auto r = decoder.feed(http::recordIoFrame(tricky) + http::recordIoFrame("x"));
  REQUIRE(r.ok());
  CHECK(*r == Records{tricky, "x"});
}

TEST_CASE("a length that is not a decimal number fails the stream for good") {
  http::RecordIoDecoder decoder;
  auto r = decoder.feed("2\nokx1\nab");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(r.error().message.find("bad record length 'x1'") != std::string::npos);
  CHECK_FALSE(decoder.feed(http::recordIoFrame("fine")).ok());
}

TEST_CASE("an empty length line, a negative length and a missing newline are errors") {
  CHECK_FALSE(http::RecordIoDecoder().feed("\nabc").ok());
  CHECK_FALSE(http::RecordIoDecoder().feed("-1\n").ok());
  CHECK_FALSE(http::RecordIoDecoder().feed(std::string(30, '7')).ok());
}

TEST_CASE("a record longer than the limit is refused before it is buffered") {
  http::RecordIoDecoder decoder(16);
  CHECK(decoder.feed(http::recordIoFrame(std::string(16, 'x'))).ok());
  auto r = decoder.feed("17\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("exceeds the limit of 16 bytes") != std::string::npos);
  CHECK_FALSE(http::RecordIoDecoder().feed("99999999999999999999\n").ok());
}

TEST_CASE("many small records fed together are all decoded") {
  http::RecordIoDecoder decoder;
  std::string stream;
  for (int i = 0; i < 10000; ++i) stream += http::recordIoFrame(std::to_string(i));
  auto r = decoder.feed(stream);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 10000);
  CHECK(r->front() == "0");
  CHECK(r->back() == "9999");
}

}
