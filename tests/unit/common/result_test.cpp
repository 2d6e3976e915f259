#include "common/http/http.hpp"
#include "common/json.hpp"
#include "common/result.hpp"

#include <doctest/doctest.h>

using namespace dcos;

TEST_CASE("error codes map to their HTTP status") {
  CHECK(httpStatus(ErrorCode::kInvalidArgument) == 400);
  CHECK(httpStatus(ErrorCode::kUnauthorized) == 401);
  CHECK(httpStatus(ErrorCode::kForbidden) == 403);
  CHECK(httpStatus(ErrorCode::kNotFound) == 404);
  CHECK(httpStatus(ErrorCode::kMethodNotAllowed) == 405);
  CHECK(httpStatus(ErrorCode::kConflict) == 409);
  CHECK(httpStatus(ErrorCode::kPayloadTooLarge) == 413);
  CHECK(httpStatus(ErrorCode::kUnprocessable) == 422);
  CHECK(httpStatus(ErrorCode::kUnavailable) == 503);
  CHECK(httpStatus(ErrorCode::kIo) == 500);
}

TEST_CASE("the JSON error body has message and details with paths") {
  Error e(ErrorCode::kUnprocessable, "Object is not valid",
          {{"/cpus", {"must be positive"}}, {"/id", {"required", "bad characters"}}});
  auto res = http::Response::error(e);
  CHECK(res.status == 422);
  auto body = Json::parse(res.body);
  CHECK(body["message"] == "Object is not valid");
  REQUIRE(body["details"].size() == 2);
  CHECK(body["details"][0]["path"] == "/cpus");
  CHECK(body["details"][1]["errors"][1] == "bad characters");
}

TEST_CASE("Result holds a value or an error") {
  Result<int> good = 7;
  CHECK(good.ok());
  CHECK(*good == 7);
  Result<int> bad = Error(ErrorCode::kNotFound, "no such app");
  CHECK_FALSE(bad.ok());
  CHECK(bad.error().message == "no such app");
  CHECK(bad.error().wrap("loading").message == "loading: no such app");
  Result<void> fine = success();
  CHECK(fine.ok());
}

TEST_CASE("malformed JSON is an InvalidArgument error with a position") {
  auto r = parseJson("{\"a\": [1, 2,}");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(r.error().details.size() == 1);
  CHECK(parseJson("{\"a\": 1}").ok());
}

TEST_CASE("RecordIO frames carry the byte length") {
  CHECK(http::recordIoFrame("{\"type\":\"HEARTBEAT\"}") == "20\n{\"type\":\"HEARTBEAT\"}");
  CHECK(http::recordIoFrame("") == "0\n");
}

TEST_CASE("Server-Sent Events prefix every data line") {
  CHECK(http::sseEvent("status_update_event", "{\"a\":1}") == "event: status_update_event\ndata: {\"a\":1}\n\n");
  CHECK(http::sseEvent("x", "l1\nl2") == "event: x\ndata: l1\ndata: l2\n\n");
}

TEST_CASE("percent decoding") {
  CHECK(http::percentDecode("%2Fprod%2fweb", false) == "/prod/web");
  CHECK(http::percentDecode("a+b", true) == "a b");
  CHECK(http::percentDecode("a+b", false) == "a+b");
  CHECK(http::percentDecode("bad%zz%", false) == "bad%zz%");
}
