// URL parsing and redirect reference resolution of the HTTP client: pure functions, no sockets.
#include "common/http/client.hpp"

#include <doctest/doctest.h>

using namespace dcos;

TEST_SUITE("http client") {

TEST_CASE("client parseUrl splits a URL into scheme host port and target") {
  auto u = http::parseUrl("HTTPS://Example.COM/a/b?c=d#frag");
  REQUIRE(u.ok());
  CHECK(u->scheme == "https");
  CHECK(u->host == "example.com");
  CHECK(u->port == 443);
  CHECK(u->target == "/a/b?c=d");
  auto v6 = http::parseUrl("http://[::1]:8080?q");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 8080);
  CHECK(v6->target == "/?q");
  CHECK(v6->authority() == "[::1]:8080");
  auto plain = http::parseUrl("http://10.0.0.1");
  REQUIRE(plain.ok());
  CHECK(plain->toString() == "http://10.0.0.1/");
  for (const char* bad : {"ftp://host/x", "host/x", "http://", "http://host:0/", "http://host:99999/",
                          "http://host:/", "http://user:pw@host/", "http://ho st/", "http://[::1/", "http://a\nb/"}) {
    auto r = http::parseUrl(bad);
    CHECK_MESSAGE(!r.ok(), bad);
    if (!r.ok()) CHECK(r.error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("client resolves redirect references the way RFC 3986 does") {
  auto parsed = http::parseUrl("http://h:81/a/b/c?q=1");
  REQUIRE(parsed.ok());
  const http::Url& base = *parsed;
  auto resolve = [&](const std::string& ref) {
    auto r = http::resolveReference(base, ref);
    return r.ok() ? r->toString() : "error: " + r.error().message;
  };
  CHECK(resolve("d") == "http://h:81/a/b/d");
  CHECK(resolve("../d?x") == "http://h:81/a/d?x");
  CHECK(resolve("../../../../d") == "http://h:81/d");
  CHECK(resolve("./") == "http://h:81/a/b/");
  CHECK(resolve("/x/./y/../z") == "http://h:81/x/z");
  CHECK(resolve("?other") == "http://h:81/a/b/c?other");
  CHECK(resolve("//elsewhere/p") == "http://elsewhere/p");
  CHECK(resolve("https://secure:8443/s#f") == "https://secure:8443/s");
  CHECK(!http::resolveReference(base, "ftp://x/").ok());
}

}  // TEST_SUITE
