#include "common/http/router.hpp"

#include <doctest/doctest.h>

using dcos::http::Request;
using dcos::http::Response;
using dcos::http::Router;

namespace {

Response named(const char* name) { return Response::text(200, name); }

struct Capture : dcos::http::Responder::Sink {
  Response response;
  int sends = 0;
  void send(Response r) override {
    response = std::move(r);
    ++sends;
  }
  std::shared_ptr<dcos::http::ResponseStream> stream(int, dcos::http::Headers) override { return nullptr; }
};

Response dispatch(const Router& router, const std::string& method, const std::string& path) {
  Request req;
  req.method = method;
  req.path = path;
  auto sink = std::make_shared<Capture>();
  router.dispatch(req, dcos::http::Responder(sink));
  CHECK(sink->sends == 1);
  return sink->response;
}

}  // namespace

TEST_CASE("a path parameter captures one segment") {
  Router r;
  r.route("GET", "/agents/{id}", [](const Request& q) { return Response::text(200, q.params.at("id")); });
  CHECK(dispatch(r, "GET", "/agents/abc-1").body == "abc-1");
  CHECK(dispatch(r, "GET", "/agents/abc/def").status == 404);
}

TEST_CASE("a greedy parameter spans segments and literals after it pull it back") {
  Router r;
  r.route("GET", "/v2/apps/{id*}", [](const Request& q) { return Response::text(200, "app:" + q.params.at("id")); });
  r.route("GET", "/v2/apps/{id*}/tasks", [](const Request& q) { return Response::text(200, "tasks:" + q.params.at("id")); });
  CHECK(dispatch(r, "GET", "/v2/apps/prod/web").body == "app:prod/web");
  CHECK(dispatch(r, "GET", "/v2/apps/prod/web/tasks").body == "tasks:prod/web");
  CHECK(dispatch(r, "GET", "/v2/apps/web/tasks").body == "tasks:web");
  CHECK(dispatch(r, "GET", "/v2/apps").status == 404);
}

TEST_CASE("the route with more literal segments wins over an earlier parameter route") {
  Router r;
  r.route("GET", "/v2/apps/{id}", [](const Request&) { return named("param"); });
  r.route("GET", "/v2/apps/versions", [](const Request&) { return named("literal"); });
  CHECK(dispatch(r, "GET", "/v2/apps/versions").body == "literal");
  CHECK(dispatch(r, "GET", "/v2/apps/other").body == "param");
}

TEST_CASE("unknown paths get a JSON 404 naming the path") {
  Router r;
  r.route("GET", "/health", [](const Request&) { return named("ok"); });
  auto res = dispatch(r, "GET", "/nope/deeper");
  CHECK(res.status == 404);
  CHECK(res.headers["Content-Type"] == "application/json");
  auto body = dcos::Json::parse(res.body);
  CHECK(body["message"].get<std::string>().find("/nope/deeper") != std::string::npos);
  CHECK(body["details"].is_array());
}

TEST_CASE("a known path with the wrong method gets a JSON 405 with Allow") {
  Router r;
  r.route("GET", "/v2/apps", [](const Request&) { return named("list"); });
  r.route("POST", "/v2/apps", [](const Request&) { return named("create"); });
  auto res = dispatch(r, "DELETE", "/v2/apps");
  CHECK(res.status == 405);
  CHECK(res.headers["Allow"] == "GET, POST");
  CHECK(dcos::Json::parse(res.body).contains("message"));
}

TEST_CASE("HEAD is answered by the GET route") {
  Router r;
  r.route("GET", "/health", [](const Request&) { return named("ok"); });
  CHECK(dispatch(r, "HEAD", "/health").status == 200);
}

TEST_CASE("a throwing handler becomes a JSON 500") {
  Router r;
  r.route("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("kaput"); });
  auto res = dispatch(r, "GET", "/boom");
  CHECK(res.status == 500);
  CHECK(dcos::Json::parse(res.body)["message"].get<std::string>().find("kaput") != std::string::npos);
}

TEST_CASE("trailing and doubled slashes do not change the match") {
  Router r;
  r.route("GET", "/v2/info", [](const Request&) { return named("info"); });
  CHECK(dispatch(r, "GET", "/v2/info/").body == "info");
  CHECK(dispatch(r, "GET", "//v2//info").body == "info");
}
