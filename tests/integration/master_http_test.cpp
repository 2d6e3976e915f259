// A real `dcos master` process on an ephemeral port, spoken to over real sockets.
#include "tests/support/support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

using namespace dcos::test;
using nlohmann::json;

TEST_CASE("the master answers /health and /version with JSON") {
  TempDir dir;
  MasterProcess m(dir.file("master"));
  auto health = httpRequest(m.port(), "GET", "/health");
  CHECK(health.status == 200);
  CHECK(health.headers["content-type"] == "application/json");
  auto h = json::parse(health.body);
  CHECK(h["healthy"] == true);
  CHECK(h["role"] == "master");

  auto version = httpRequest(m.port(), "GET", "/version");
  CHECK(version.status == 200);
  auto v = json::parse(version.body);
  CHECK(v["version"].is_string());
  CHECK(v["git_sha"].is_string());
  CHECK(v["libraries"].contains("sqlite"));
}

TEST_CASE("the master keeps its state in SQLite under --work_dir, and its cluster id across restarts") {
  TempDir dir;
  std::string clusterId;
  {
    MasterProcess m(dir.file("master"));
    clusterId = json::parse(httpRequest(m.port(), "GET", "/health").body)["cluster_id"];
    CHECK(std::filesystem::exists(dir.file("master/master.db")));
  }
  MasterProcess again(dir.file("master"));
  CHECK(json::parse(httpRequest(again.port(), "GET", "/health").body)["cluster_id"] == clusterId);
}

TEST_CASE("unknown routes and wrong methods get JSON errors") {
  TempDir dir;
  MasterProcess m(dir.file("master"));
  auto missing = httpRequest(m.port(), "GET", "/no/such/thing");
  CHECK(missing.status == 404);
  CHECK(json::parse(missing.body)["message"].get<std::string>().find("/no/such/thing") != std::string::npos);
  CHECK(json::parse(missing.body)["details"].is_array());
  auto wrong = httpRequest(m.port(), "DELETE", "/health");
  CHECK(wrong.status == 405);
  CHECK(json::parse(wrong.body).contains("message"));
}

TEST_CASE("an oversized body gets a JSON 413") {
  TempDir dir;
  MasterProcess m(dir.file("master"), {"--http_max_body_bytes=1024"});
  auto r = httpRequest(m.port(), "POST", "/health", std::string(64 * 1024, 'x'));
  CHECK(r.status == 413);
  CHECK(json::parse(r.body)["message"].get<std::string>().find("1024") != std::string::npos);
}

TEST_CASE("a malformed request line gets a JSON 400") {
  TempDir dir;
  MasterProcess m(dir.file("master"));
  auto r = parseReply(rawExchange(m.port(), "GET\r\n\r\n"));
  CHECK(r.status == 400);
  CHECK(json::parse(r.body).contains("message"));
  auto r2 = parseReply(rawExchange(m.port(), "G(T / HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(r2.status == 400);
  // The server is still fine afterwards.
  CHECK(httpRequest(m.port(), "GET", "/health").status == 200);
}

TEST_CASE("a slow client is cut off after the header timeout while others are served") {
  TempDir dir;
  MasterProcess m(dir.file("master"), {"--http_header_timeout=300ms"});
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(m.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string partial = "GET /health HTTP/1.1\r\nHost: slow\r\n";
  send(fd, partial.data(), partial.size(), 0);
  // Meanwhile a well-behaved client is answered.
  CHECK(httpRequest(m.port(), "GET", "/health").status == 200);
  std::string got;
  bool closed = waitFor(
      [&] {
        char buf[1024];
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) got.append(buf, static_cast<size_t>(n));
        return n == 0;
      },
      10s);
  close(fd);
  CHECK(closed);
  CHECK(parseReply(got).status == 408);
}

TEST_CASE("SIGTERM shuts the master down cleanly with exit 0") {
  TempDir dir;
  MasterProcess m(dir.file("master"));
  m.process().signal(SIGTERM);
  CHECK(m.process().wait(10s) == 0);
  CHECK(m.process().stderrText().find("shutting down") != std::string::npos);
}

TEST_CASE("dev mode prints where the cluster is") {
  TempDir dir;
  MasterProcess dev(dir.file("dev"), {}, "dev");
  CHECK(waitFor([&] { return dev.process().stdoutText().find("http://127.0.0.1:" + std::to_string(dev.port())) != std::string::npos; }, 5s));
  CHECK(httpRequest(dev.port(), "GET", "/health").status == 200);
}

TEST_CASE("logs can be JSON lines") {
  TempDir dir;
  MasterProcess m(dir.file("master"), {"--log_json"});
  auto err = m.process().stderrText();
  auto firstLine = err.substr(0, err.find('\n'));
  auto line = json::parse(firstLine);
  CHECK(line["level"] == "info");
  CHECK(line["logger"] == "master");
  CHECK(line["message"].is_string());
}
