#include "web/web.hpp"

#include "common/http/router.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <string>

using dcos::http::Request;
using dcos::http::Response;
using dcos::http::Router;

namespace {

struct Capture : dcos::http::Responder::Sink {
  Response response;
  int sends = 0;
  void send(Response r) override {
    response = std::move(r);
    ++sends;
  }
  std::shared_ptr<dcos::http::ResponseStream> stream(int, dcos::http::Headers) override { return nullptr; }
};

const Router& dashboard() {
  static const Router router = [] {
    Router r;
    dcos::web::registerRoutes(r);
    return r;
  }();
  return router;
}

Response get(const std::string& target, dcos::http::Headers headers = {}) {
  Request req;
  req.method = "GET";
  req.target = target;
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    size_t eq = query.find('=');
    req.query.emplace_back(query.substr(0, eq), eq == std::string::npos ? "" : query.substr(eq + 1));
  }
  req.headers = std::move(headers);
  auto sink = std::make_shared<Capture>();
  dashboard().dispatch(req, dcos::http::Responder(sink));
  CHECK(sink->sends == 1);
  return sink->response;
}

const dcos::web::Asset& asset(std::string_view path) {
  const dcos::web::Asset* a = dcos::web::findAsset(path);
  REQUIRE(a != nullptr);
  return *a;
}

bool isGzip(const std::string& body) {
  return body.size() > 2 && static_cast<unsigned char>(body[0]) == 0x1f && static_cast<unsigned char>(body[1]) == 0x8b;
}

}  // namespace

TEST_CASE("the index page is served at / as HTML that is always revalidated") {
  auto res = get("/");
  CHECK(res.status == 200);
  CHECK(res.headers["Content-Type"] == "text/html; charset=utf-8");
  CHECK(res.headers["Cache-Control"] == "no-cache");
  CHECK(res.headers["Content-Security-Policy"].find("default-src 'self'") != std::string::npos);
  CHECK(res.body == asset("/").body);
  CHECK(res.body.find("<!doctype html>") == 0);
}

TEST_CASE("dashboard page paths and everything below them serve the index page") {
  for (const char* path : {"/services", "/services/some/app", "/nodes", "/tasks/t-1", "/deployments", "/catalog",
                           "/frameworks/f/tasks", "/events", "/overview"}) {
    CAPTURE(path);
    auto res = get(path);
    CHECK(res.status == 200);
    CHECK(res.headers["Content-Type"] == "text/html; charset=utf-8");
    CHECK(res.body == asset("/").body);
  }
}

TEST_CASE("scripts, styles and icons get their content types") {
  CHECK(get("/assets/app.js").headers["Content-Type"] == "text/javascript; charset=utf-8");
  CHECK(get("/assets/style.css").headers["Content-Type"] == "text/css; charset=utf-8");
  CHECK(get("/assets/favicon.svg").headers["Content-Type"] == "image/svg+xml");
  CHECK(get("/assets/app.js").headers["X-Content-Type-Options"] == "nosniff");
}

TEST_CASE("unknown paths stay JSON 404s: no catch-all shadows the API") {
  for (const char* path : {"/assets/nope.js", "/assets", "/nope", "/api/v1/nope", "/index.html"}) {
    CAPTURE(path);
    auto res = get(path);
    CHECK(res.status == 404);
    CHECK(res.headers["Content-Type"] == "application/json");
    CHECK(dcos::Json::parse(res.body).contains("message"));
  }
}

TEST_CASE("a strong ETag is sent and a matching If-None-Match gets an empty 304") {
  auto first = get("/assets/app.js");
  std::string etag = first.headers["ETag"];
  REQUIRE(etag.size() == 18);
  CHECK(etag.front() == '"');
  CHECK(etag.back() == '"');
  CHECK(etag == asset("/assets/app.js").etag);

  auto again = get("/assets/app.js", {{"If-None-Match", etag}});
  CHECK(again.status == 304);
  CHECK(again.body.empty());
  CHECK(again.headers["ETag"] == etag);

  CHECK(get("/assets/app.js", {{"If-None-Match", "\"other\", W/" + etag}}).status == 304);
  CHECK(get("/assets/app.js", {{"If-None-Match", "*"}}).status == 304);
  CHECK(get("/assets/app.js", {{"If-None-Match", "\"0000000000000000\""}}).status == 200);
  CHECK(get("/services/x", {{"If-None-Match", std::string(asset("/").etag)}}).status == 304);
}

TEST_CASE("gzip is sent when the client accepts it, with its own ETag and Vary") {
  const auto& js = asset("/assets/app.js");
  REQUIRE(!js.gzipBody.empty());
  auto res = get("/assets/app.js", {{"Accept-Encoding", "gzip, deflate, br"}});
  CHECK(res.status == 200);
  CHECK(res.headers["Content-Encoding"] == "gzip");
  CHECK(res.headers["Vary"] == "Accept-Encoding");
  CHECK(isGzip(res.body));
  CHECK(res.body == js.gzipBody);
  CHECK(res.body.size() < js.body.size());
  // The last four bytes of a gzip member are the uncompressed length, little-endian.
  const auto* tail = reinterpret_cast<const unsigned char*>(res.body.data() + res.body.size() - 4);
  CHECK((tail[0] | tail[1] << 8 | tail[2] << 16 | static_cast<uint32_t>(tail[3]) << 24) == js.body.size());

  CHECK(res.headers["ETag"] == js.gzipEtag);
  CHECK(res.headers["ETag"] != js.etag);
  CHECK(get("/assets/app.js", {{"Accept-Encoding", "gzip"}, {"If-None-Match", std::string(js.gzipEtag)}}).status == 304);
  // A cached gzip copy is no copy for a client that no longer takes gzip.
  CHECK(get("/assets/app.js", {{"If-None-Match", std::string(js.gzipEtag)}}).status == 200);
}

TEST_CASE("the identity body is sent when gzip is refused or not offered") {
  const auto& js = asset("/assets/app.js");
  for (const char* accept : {"", "gzip;q=0", "gzip; q=0.000, deflate", "identity", "br", "*;q=0", "gzip;q=zz",
                             "*, gzip;q=0"}) {
    CAPTURE(accept);
    dcos::http::Headers headers;
    if (*accept) headers["Accept-Encoding"] = accept;
    auto res = get("/assets/app.js", headers);
    CHECK(res.status == 200);
    CHECK(res.headers.count("Content-Encoding") == 0);
    CHECK(res.headers["Vary"] == "Accept-Encoding");
    CHECK(res.body == js.body);
  }
  for (const char* accept : {"GZIP", "gzip;q=0.5", "deflate, *", "x-gzip", "br;q=1, gzip ; q=0.1"}) {
    CAPTURE(accept);
    CHECK(get("/assets/app.js", {{"Accept-Encoding", accept}}).headers["Content-Encoding"] == "gzip");
  }
}

TEST_CASE("assets linked with their hash may be cached for good, others are revalidated") {
  const auto& css = asset("/assets/style.css");
  CHECK(get("/assets/style.css?v=" + std::string(css.hash)).headers["Cache-Control"].find("immutable") !=
        std::string::npos);
  CHECK(get("/assets/style.css").headers["Cache-Control"] == "no-cache");
  CHECK(get("/assets/style.css?v=0123456789abcdef").headers["Cache-Control"] == "no-cache");
}

TEST_CASE("every embedded asset is served as embedded, and gzip copies are only kept when smaller") {
  CHECK(dcos::web::assets().size() >= 4);
  for (const auto& a : dcos::web::assets()) {
    CAPTURE(a.path);
    auto res = get(std::string(a.path));
    CHECK(res.status == 200);
    CHECK(res.headers["Content-Type"] == a.contentType);
    CHECK(res.body == a.body);
    CHECK(!a.body.empty());
    CHECK(a.hash.size() == 16);
    CHECK(a.etag == "\"" + std::string(a.hash) + "\"");
    if (!a.gzipBody.empty()) {
      CHECK(isGzip(std::string(a.gzipBody)));
      CHECK(a.gzipBody.size() < a.body.size());
      CHECK(!a.gzipEtag.empty());
    } else {
      CHECK(a.gzipEtag.empty());
    }
  }
}

TEST_CASE("the index page links only to embedded assets, pinned by their hashes") {
  std::string html(asset("/").body);
  std::regex link(R"re(\b(?:src|href)\s*=\s*"(/assets/[^"?#]*)(\?v=([0-9a-f]+))?")re");
  int links = 0;
  for (std::sregex_iterator it(html.begin(), html.end(), link), end; it != end; ++it) {
    std::string path = (*it)[1];
    CAPTURE(path);
    const auto* a = dcos::web::findAsset(path);
    REQUIRE(a != nullptr);
    CHECK((*it)[3] == std::string(a->hash));
    ++links;
  }
  CHECK(links >= 3);
  for (const char* needed : {"/assets/app.js", "/assets/style.css", "/assets/favicon.svg"}) {
    CAPTURE(needed);
    CHECK(html.find(needed) != std::string::npos);
  }
  // No external requests: nothing is loaded from another origin.
  CHECK(html.find("src=\"http") == std::string::npos);
  CHECK(html.find("src=\"//") == std::string::npos);
  CHECK(html.find("href=\"http") == std::string::npos);
}
