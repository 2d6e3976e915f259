// HTTPS against a real TLS server: `openssl s_server -WWW` with a throwaway CA made by the
// openssl command line, so certificate, host name and IP verification are tested end to end.
#include "common/http/client.hpp"

#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

using namespace dcos;
using namespace std::chrono_literals;

namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// A port that was free a moment ago (bound to port 0, read, released).
uint16_t freePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(0);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool canConnect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// A throwaway CA, a server certificate it signed with the given subjectAltName, and
// `openssl s_server -WWW` serving hello.txt from the temporary directory on a fresh port. With
// `sniSubjectAltName`, clients that send the server name "localhost" (SNI) get a second
// certificate with that subjectAltName instead.
struct TlsServer {
  test::TempDir dir;
  std::unique_ptr<test::Process> server;
  uint16_t port = 0;

  explicit TlsServer(const std::string& subjectAltName, const std::string& sniSubjectAltName = "") {
    REQUIRE(test::runShell(dir.path(), "openssl req -x509 " + kKey +
                               " -keyout ca.key -out ca.pem -days 2 -subj '/CN=dcos test CA'"
                               " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign"));
    issue("server", subjectAltName);
    std::string args = "-cert server.pem -key server.key";
    if (!sniSubjectAltName.empty()) {
      issue("sni", sniSubjectAltName);
      args += " -servername localhost -cert2 sni.pem -key2 sni.key";
    }
    test::writeFile(dir.file("hello.txt"), "hello over TLS\n");
    port = freePort();
    server = std::make_unique<test::Process>(
        std::vector<std::string>{"/bin/sh", "-c",
                                 "cd '" + dir.path() + "' && exec openssl s_server -quiet -accept 127.0.0.1:" +
                                     std::to_string(port) + " " + args + " -WWW"},
        dir.path());
    REQUIRE(test::waitFor([&] { return canConnect(port) || !server->running(); }, 10000ms));
    REQUIRE_MESSAGE(server->running(), server->stderrText());
  }

  // Writes <name>.key and <name>.pem, a certificate signed by the CA.
  void issue(const std::string& name, const std::string& subjectAltName) const {
    REQUIRE(test::runShell(dir.path(), "openssl req -new " + kKey + " -keyout " + name + ".key -out " + name +
                               ".csr -subj /CN=" + name + " -addext subjectAltName=" + subjectAltName));
    REQUIRE(test::runShell(dir.path(), "openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial" +
                               " -days 2 -copy_extensions copy -out " + name + ".pem"));
  }

  static inline const std::string kKey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

  http::ClientRequest get(const std::string& host) const {
    http::ClientRequest r;
    r.url = "https://" + host + ":" + std::to_string(port) + "/hello.txt";
    r.caFile = dir.file("ca.pem");
    r.timeout = 10s;
    return r;
  }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The failure text for a REQUIRE_MESSAGE; doctest builds the message even when the check passes.
std::string why(const Result<http::ClientResponse>& r) { return r.ok() ? "" : r.error().message; }

}  // namespace

TEST_SUITE("http client") {

TEST_CASE("client https trusts a server certificate signed by the given CA") {
  if (!test::haveCommand("openssl")) {
    MESSAGE("skipped: no openssl command line");
    return;
  }
  TlsServer tls("DNS:localhost,IP:127.0.0.1");
  for (const char* host : {"127.0.0.1", "localhost"}) {
    auto r = http::fetch(tls.get(host));
    REQUIRE_MESSAGE(r.ok(), why(r));
    CHECK(r->status == 200);
    CHECK(r->body == "hello over TLS\n");
  }

  std::string streamed;
  auto s = http::fetchStream(tls.get("127.0.0.1"), [&](std::string_view piece) {
    streamed += piece;
    return true;
  });
  REQUIRE_MESSAGE(s.ok(), why(s));
  CHECK(streamed == "hello over TLS\n");

  // The system bundle does not know the throwaway CA.
  auto system = tls.get("127.0.0.1");
  system.caFile.clear();
  auto rejected = http::fetch(system);
  REQUIRE(!rejected.ok());
  CHECK(rejected.error().code == ErrorCode::kUnavailable);
  CHECK(contains(rejected.error().message, "GET " + system.url + ": "));
  CHECK(contains(rejected.error().message, "certificate verify failed"));

  auto insecure = system;
  insecure.insecureSkipVerify = true;
  auto r = http::fetch(insecure);
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->body == "hello over TLS\n");

  auto missingCa = tls.get("127.0.0.1");
  missingCa.caFile = tls.dir.file("no-such-ca.pem");
  auto noCa = http::fetch(missingCa);
  REQUIRE(!noCa.ok());
  CHECK(noCa.error().code == ErrorCode::kInvalidArgument);
  CHECK(contains(noCa.error().message, "no-such-ca.pem"));
}

TEST_CASE("client https rejects a certificate made for another host name or IP") {
  if (!test::haveCommand("openssl")) {
    MESSAGE("skipped: no openssl command line");
    return;
  }
  TlsServer tls("DNS:elsewhere.test,IP:127.0.0.2");
  auto ip = http::fetch(tls.get("127.0.0.1"));
  REQUIRE(!ip.ok());
  CHECK(ip.error().code == ErrorCode::kUnavailable);
  CHECK(contains(ip.error().message, "certificate verify failed (IP address mismatch"));

  auto name = http::fetch(tls.get("localhost"));
  REQUIRE(!name.ok());
  CHECK(name.error().code == ErrorCode::kUnavailable);
  CHECK(contains(name.error().message, "certificate verify failed (hostname mismatch"));

  auto insecure = tls.get("localhost");
  insecure.insecureSkipVerify = true;
  auto r = http::fetch(insecure);
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->body == "hello over TLS\n");
}

TEST_CASE("client https sends the host name by SNI so the server can pick its certificate") {
  if (!test::haveCommand("openssl")) {
    MESSAGE("skipped: no openssl command line");
    return;
  }
  // The certificate for "localhost" is handed only to clients that ask for it by SNI.
  TlsServer tls("DNS:elsewhere.test", "DNS:localhost");
  auto r = http::fetch(tls.get("localhost"));
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->body == "hello over TLS\n");
}

}  // TEST_SUITE
