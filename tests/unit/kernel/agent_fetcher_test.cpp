#include "kernel/agent/fetcher.hpp"

#include "common/event_loop.hpp"
#include "common/http/router.hpp"
#include "common/http/server.hpp"
#include "kernel/agent/archive.hpp"
#include "kernel/agent/fetcher_cache.hpp"
#include "tests/support/local_server.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

using namespace dcos;
using namespace dcos::kernel;
namespace fs = std::filesystem;

namespace {

struct Entry {
  std::string name, content;
  int mode = 0644;
  std::string symlink;  // a symbolic link to this target when set
  bool dir = false;
};

// Writes a ustar archive by hand (hostile names stay as given, unlike with GNU tar), gzipped
// with the gzip command.
std::string octal(uint64_t v, size_t width) {
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + (v & 7)));
    v >>= 3;
  } while (v);
  return std::string(width - 1 - digits.size(), '0') + digits;
}

std::string tarBytes(const std::vector<Entry>& entries) {
  std::string tar;
  for (const auto& e : entries) {
    std::string h(512, '\0');
    auto put = [&h](size_t at, const std::string& v) { h.replace(at, v.size(), v); };
    std::string content = e.dir || !e.symlink.empty() ? "" : e.content;
    put(0, e.name);
    put(100, octal(e.dir ? 0755 : (!e.symlink.empty() ? 0777 : e.mode), 8));
    put(108, octal(0, 8));
    put(116, octal(0, 8));
    put(124, octal(content.size(), 12));
    put(136, octal(0, 12));
    put(148, std::string(8, ' '));
    h[156] = e.dir ? '5' : (!e.symlink.empty() ? '2' : '0');
    put(157, e.symlink);
    put(257, std::string("ustar\0", 6));
    put(263, "00");
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    put(148, octal(sum, 7));
    tar += h + content + std::string((512 - content.size() % 512) % 512, '\0');
  }
  tar += std::string(1024, '\0');
  return tar;
}

// `bytes` run through a compression command ("gzip", "xz", ...; empty for none).
std::string compressed(const std::string& scratch, const std::string& bytes, const std::string& command) {
  if (command.empty()) return bytes;
  test::writeFile(scratch + ".raw", bytes);
  REQUIRE(std::system((command + " -c '" + scratch + ".raw' > '" + scratch + "'").c_str()) == 0);
  std::string out = test::readFile(scratch);
  fs::remove(scratch + ".raw");
  fs::remove(scratch);
  return out;
}

void makeTarGz(const std::string& path, const std::vector<Entry>& entries) {
  test::writeFile(path, compressed(path + ".tmp", tarBytes(entries), "gzip"));
}

// Writes a Debian package by hand: the ar global header, then per member a 60-byte header
// (name, mtime, uid, gid, octal mode, decimal size, "`\n") and the data padded to an even size.
void makeDeb(const std::string& path, const std::vector<std::pair<std::string, std::string>>& members) {
  auto field = [](const std::string& v, size_t width) { return v + std::string(width - v.size(), ' '); };
  std::string ar = "!<arch>\n";
  for (const auto& [name, data] : members) {
    ar += field(name, 16) + field("0", 12) + field("0", 6) + field("0", 6) + field("100644", 8) +
          field(std::to_string(data.size()), 10) + "`\n" + data;
    if (data.size() % 2) ar += '\n';
  }
  test::writeFile(path, ar);
}

// A package with the usual control member and `data` as its data.tar`suffix`.
void makeDebWithData(const std::string& path, const std::vector<Entry>& data, const std::string& suffix = ".gz",
                     const std::string& command = "gzip") {
  std::string control =
      compressed(path + ".tmp", tarBytes({{"./control", "Package: hello\nVersion: 1.0\nArchitecture: all\n"}}), "gzip");
  makeDeb(path, {{"debian-binary", "2.0\n"},
                 {"control.tar.gz", control},
                 {"data.tar" + suffix, compressed(path + ".tmp", tarBytes(data), command)}});
}

// What a directory holds, recursively, as relative paths (the fetch log "stderr" left out).
std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string rel = e.path().lexically_relative(dir).string();
    if (rel != "stderr") out.insert(rel);
  }
  return out;
}

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += n + " ";
  return out;
}

bool executable(const std::string& path) {
  return (fs::status(path).permissions() & fs::perms::owner_exec) != fs::perms::none;
}

std::string fileUri(const std::string& path, const std::string& extra = "") {
  return "{\"value\": \"file://" + path + "\"" + extra + "}";
}

Result<void> fetchJson(Fetcher& f, const std::string& urisJson, const std::string& sandbox) {
  auto uris = parseFetchUris(Json::parse(urisJson));
  REQUIRE(uris.ok());
  return f.fetch(*uris, sandbox);
}

}  // namespace

TEST_CASE("extraction keeps the tree and the executable bit") {
  test::TempDir d;
  makeTarGz(d.file("app.tar.gz"), {{"bin", "", 0, "", true}, {"bin/run.sh", "#!/bin/sh\necho hi\n", 0755},
                                   {"README", "read me"}, {"link", "", 0, "bin/run.sh"}});
  fs::create_directory(d.file("out"));
  REQUIRE(extractArchive(d.file("app.tar.gz"), d.file("out")).ok());
  CHECK(joined(listing(d.file("out"))) == "README bin bin/run.sh link ");
  CHECK(executable(d.file("out/bin/run.sh")));
  CHECK_FALSE(executable(d.file("out/README")));
  CHECK(test::readFile(d.file("out/link")) == "#!/bin/sh\necho hi\n");
}

TEST_CASE("extraction merges into directories that exist and replaces files") {
  test::TempDir d;
  fs::create_directories(d.file("out/bin"));
  test::writeFile(d.file("out/bin/old"), "old");
  test::writeFile(d.file("out/bin/tool"), "v1");
  makeTarGz(d.file("v2.tar.gz"), {{"bin", "", 0, "", true}, {"bin/tool", "v2", 0755}, {"bin/lib", "", 0, "", true},
                                  {"bin/lib/x", "x"}});
  REQUIRE(extractArchive(d.file("v2.tar.gz"), d.file("out")).ok());
  CHECK(joined(listing(d.file("out"))) == "bin bin/lib bin/lib/x bin/old bin/tool ");
  CHECK(test::readFile(d.file("out/bin/tool")) == "v2");
}

TEST_CASE("extraction refuses entries that escape the sandbox and leaves nothing behind") {
  test::TempDir d;
  fs::create_directory(d.file("out"));
  struct Case {
    const char* what;
    Entry evil;
  };
  for (const auto& c : {Case{"dot-dot", {"../evil", "x"}}, Case{"nested dot-dot", {"a/../../evil", "x"}},
                        Case{"absolute", {d.file("abs-evil"), "x"}}, Case{"symlink to /etc", {"etc", "", 0, "/etc"}},
                        Case{"climbing symlink", {"sub/up", "", 0, "../../.."}}}) {
    CAPTURE(std::string(c.what));
    makeTarGz(d.file("bad.tar.gz"), {{"good.txt", "fine"}, c.evil, {"after.txt", "later"}});
    auto r = extractArchive(d.file("bad.tar.gz"), d.file("out"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kUnprocessable);
    INFO(r.error().message);
    CHECK(r.error().message.find(c.evil.name) != std::string::npos);
    CHECK(listing(d.file("out")).empty());
    CHECK_FALSE(fs::exists(d.file("evil")));
    CHECK_FALSE(fs::exists(d.file("abs-evil")));
  }
}

TEST_CASE("extraction of a corrupt archive fails cleanly") {
  test::TempDir d;
  fs::create_directory(d.file("out"));
  makeTarGz(d.file("ok.tar.gz"), {{"a.txt", std::string(100000, 'a')}});
  std::string bytes = test::readFile(d.file("ok.tar.gz"));
  test::writeFile(d.file("cut.tar.gz"), bytes.substr(0, bytes.size() / 2));
  test::writeFile(d.file("junk.tar.gz"), "this is not gzip at all");
  for (const char* name : {"cut.tar.gz", "junk.tar.gz"}) {
    CAPTURE(name);
    auto r = extractArchive(d.file(name), d.file("out"));
    REQUIRE_FALSE(r.ok());
    CHECK(listing(d.file("out")).empty());
  }
}

TEST_CASE("a Debian package extracts its data.tar with any supported compression") {
  std::vector<Entry> data = {{"./", "", 0, "", true},
                             {"./usr", "", 0, "", true},
                             {"./usr/bin", "", 0, "", true},
                             {"./usr/bin/hello", "#!/bin/sh\necho hello\n", 0755},
                             {"./etc", "", 0, "", true},
                             {"./etc/hello.conf", "greeting=hello\n"}};
  struct Case {
    const char *suffix, *command;
  };
  for (const auto& c : {Case{".gz", "gzip"}, Case{".xz", "xz"}, Case{".bz2", "bzip2"}, Case{"", ""},
                        Case{".zst", "zstd -q"}}) {
    CAPTURE(std::string(c.suffix));
    test::TempDir d;
    makeDebWithData(d.file("hello_1.0_all.deb"), data, c.suffix, c.command);
    fs::create_directory(d.file("out"));
    auto r = extractArchive(d.file("hello_1.0_all.deb"), d.file("out"));
    INFO((r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    CHECK(joined(listing(d.file("out"))) == "etc etc/hello.conf usr usr/bin usr/bin/hello ");
    CHECK(test::readFile(d.file("out/usr/bin/hello")) == "#!/bin/sh\necho hello\n");
    CHECK(test::readFile(d.file("out/etc/hello.conf")) == "greeting=hello\n");
    CHECK(executable(d.file("out/usr/bin/hello")));
    CHECK_FALSE(executable(d.file("out/etc/hello.conf")));
  }
}

TEST_CASE("a Debian package is fetched and extracted into the sandbox") {
  test::TempDir d;
  makeDebWithData(d.file("hello.deb"), {{"./usr/bin/hello", "#!/bin/sh\n", 0755}});
  auto f = makeFetcher({d.file("cache")});
  REQUIRE(fetchJson(*f, "[" + fileUri(d.file("hello.deb")) + "]", d.file("sandbox")).ok());
  CHECK(listing(d.file("sandbox")) == std::set<std::string>{"usr", "usr/bin", "usr/bin/hello"});
  CHECK(executable(d.file("sandbox/usr/bin/hello")));
}

TEST_CASE("a Debian package that escapes, lacks data.tar or is corrupt is refused and leaves nothing") {
  test::TempDir d;
  fs::create_directory(d.file("out"));
  makeDebWithData(d.file("evil.deb"), {{"./etc/ok.conf", "fine"}, {"../evil", "x"}, {"./after", "later"}});
  auto evil = extractArchive(d.file("evil.deb"), d.file("out"));
  REQUIRE_FALSE(evil.ok());
  CHECK(evil.error().code == ErrorCode::kUnprocessable);
  CHECK(evil.error().message.find("../evil") != std::string::npos);
  CHECK(listing(d.file("out")).empty());
  CHECK_FALSE(fs::exists(d.file("evil")));

  makeDebWithData(d.file("link.deb"), {{"./etc", "", 0, "/etc"}});
  auto link = extractArchive(d.file("link.deb"), d.file("out"));
  REQUIRE_FALSE(link.ok());
  CHECK(link.error().message.find("absolute path '/etc'") != std::string::npos);
  CHECK(listing(d.file("out")).empty());

  makeDeb(d.file("nodata.deb"), {{"debian-binary", "2.0\n"}, {"control.tar.gz", "x"}});
  auto nodata = extractArchive(d.file("nodata.deb"), d.file("out"));
  REQUIRE_FALSE(nodata.ok());
  CHECK(nodata.error().code == ErrorCode::kUnprocessable);
  CHECK(nodata.error().message.find("no data.tar") != std::string::npos);
  CHECK(listing(d.file("out")).empty());

  makeDeb(d.file("lzma.deb"), {{"debian-binary", "2.0\n"}, {"data.tar.lzma", "whatever"}});
  auto lzma = extractArchive(d.file("lzma.deb"), d.file("out"));
  REQUIRE_FALSE(lzma.ok());
  CHECK(lzma.error().message.find("unsupported compression") != std::string::npos);
  CHECK(lzma.error().message.find("data.tar.lzma") != std::string::npos);

  // data.tar.gz cut in half, and a data member whose name lies about its compression.
  std::string noise;
  for (uint32_t x = 1; noise.size() < 200000;) noise += static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  makeDebWithData(d.file("big.deb"), {{"./big", noise}});
  std::string bytes = test::readFile(d.file("big.deb"));
  REQUIRE(bytes.size() > 100000);
  test::writeFile(d.file("cut.deb"), bytes.substr(0, bytes.size() / 2));
  makeDebWithData(d.file("liar.deb"), {{"./x", "x"}}, ".xz", "gzip");
  for (std::string name : {"cut.deb", "liar.deb"}) {
    CAPTURE(name);
    auto r = extractArchive(d.file(name), d.file("out"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kUnprocessable);
    CHECK(listing(d.file("out")).empty());
  }
}

TEST_CASE("archive names are recognised by suffix") {
  for (const char* n : {"a.tar", "a.tar.gz", "A.TGZ", "a.tar.xz", "a.tar.bz2", "a.zip", "hello_1.0_amd64.deb", "A.DEB"}) {
    CHECK(isArchiveName(n));
  }
  for (const char* n : {"a.sh", "tar", "a.gz", "a.jar"}) CHECK_FALSE(isArchiveName(n));
}

TEST_CASE("URIs parse with Mesos defaults and refuse bad checksums and escaping output files") {
  auto ok = parseFetchUris(Json::parse(R"([{"value": "http://x/a.tgz"},
      {"value": "/a", "executable": true, "extract": false, "cache": true, "output_file": "bin/a",
       "checksum": "sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"}])"));
  REQUIRE(ok.ok());
  CHECK((*ok)[0].extract);
  CHECK_FALSE((*ok)[0].executable);
  CHECK_FALSE((*ok)[0].cache);
  CHECK((*ok)[1].executable);
  CHECK((*ok)[1].outputFile == "bin/a");
  CHECK((*ok)[1].checksum == "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  for (const char* bad : {R"([{"value": ""}])", R"([{"value": "/a", "checksum": "md5:abc"}])",
                          R"([{"value": "/a", "output_file": "../x"}])", R"([{"value": "/a", "output_file": "/x"}])",
                          R"([{"value": "/a", "cache": "yes"}])"}) {
    CAPTURE(bad);
    auto r = parseFetchUris(Json::parse(bad));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("local files are copied, renamed and made executable; the log goes to stderr") {
  test::TempDir d;
  test::writeFile(d.file("tool"), "#!/bin/sh\n");
  auto f = makeFetcher({d.file("cache")});
  std::string sandbox = d.file("sandbox");
  REQUIRE(fetchJson(*f, "[" + fileUri(d.file("tool"), ", \"executable\": true, \"output_file\": \"bin/t\"") + ", " +
                            "{\"value\": \"" + d.file("tool") + "\"}]",
                    sandbox)
              .ok());
  CHECK(listing(sandbox) == std::set<std::string>{"bin", "bin/t", "tool"});
  CHECK(executable(sandbox + "/bin/t"));
  CHECK_FALSE(executable(sandbox + "/tool"));
  CHECK(test::readFile(sandbox + "/stderr").find("Fetching 'file://" + d.file("tool") + "'") != std::string::npos);
}

TEST_CASE("a checksum mismatch or a missing file fails naming the URI and leaves no file") {
  test::TempDir d;
  test::writeFile(d.file("data"), "payload");
  auto f = makeFetcher({d.file("cache")});
  std::string sum = sha256Hex("payload");
  std::string wrong(64, '0');
  std::string sandbox = d.file("sandbox");
  CHECK(fetchJson(*f, "[" + fileUri(d.file("data"), ", \"checksum\": \"sha256:" + sum + "\"") + "]", sandbox).ok());
  fs::remove_all(sandbox);
  auto r = fetchJson(*f, "[" + fileUri(d.file("data"), ", \"cache\": true, \"checksum\": \"sha256:" + wrong + "\"") + "]",
                     sandbox);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("file://" + d.file("data")) != std::string::npos);
  CHECK(r.error().message.find("checksum mismatch") != std::string::npos);
  CHECK(listing(sandbox).empty());
  CHECK((!fs::exists(d.file("cache")) || fs::is_empty(d.file("cache"))));
  CHECK(test::readFile(sandbox + "/stderr").find("checksum mismatch") != std::string::npos);
  auto missing = fetchJson(*f, "[" + fileUri(d.file("nope")) + "]", sandbox);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message.find(d.file("nope")) != std::string::npos);
}

TEST_CASE("the cache serves hits, misses new keys and evicts the least recently used") {
  test::TempDir d;
  FetcherCache cache(d.file("cache"), 250);
  for (const char* name : {"a", "b", "c"}) test::writeFile(d.file(name), std::string(100, name[0]));
  REQUIRE(cache.add("ka", d.file("a")).ok());
  auto miss = cache.copyOut("kb", d.file("out"));
  REQUIRE(miss.ok());
  CHECK_FALSE(*miss);
  REQUIRE(cache.add("kb", d.file("b")).ok());
  // Using "a" makes "b" the least recently used one.
  fs::last_write_time(d.file("cache/kb"), fs::file_time_type::clock::now() - std::chrono::hours(1));
  fs::last_write_time(d.file("cache/ka"), fs::file_time_type::clock::now() - std::chrono::hours(2));
  auto hit = cache.copyOut("ka", d.file("out"));
  REQUIRE(hit.ok());
  CHECK(*hit);
  CHECK(test::readFile(d.file("out")) == std::string(100, 'a'));
  REQUIRE(cache.add("kc", d.file("c")).ok());
  CHECK(fs::exists(d.file("cache/ka")));
  CHECK_FALSE(fs::exists(d.file("cache/kb")));
  CHECK(fs::exists(d.file("cache/kc")));
  CHECK(cache.sizeBytes() == 200);
  CHECK(FetcherCache::key("u", "") != FetcherCache::key("u", std::string(64, '0')));
}

namespace {

// Serves /app.tar.gz (counting requests) and answers 404 for everything else.
struct ArtifactServer : test::LocalServer {
  std::atomic<int> requests{0};
  explicit ArtifactServer(std::string body) {
    router.route("GET", "/app.tar.gz", [this, body](const http::Request&) {
      ++requests;
      return http::Response::text(200, body, "application/gzip");
    });
    router.route("GET", "/slow/app.tar.gz", [this](const http::Request&) {
      ++requests;
      return http::Response::text(500, "boom");
    });
    start();
  }
};

}  // namespace

TEST_CASE("an HTTP archive is extracted, cached, verified, and failures name the URI") {
  test::TempDir d;
  makeTarGz(d.file("app.tar.gz"), {{"app", "", 0, "", true}, {"app/run.sh", "#!/bin/sh\necho fetched\n", 0755}});
  std::string body = test::readFile(d.file("app.tar.gz"));
  ArtifactServer s(body);
  FetcherOptions options{d.file("cache")};
  options.timeout = std::chrono::seconds(5);
  auto f = makeFetcher(options);
  std::string sum = "sha256:" + sha256Hex(body);
  std::string uri = "{\"value\": \"" + s.url("/app.tar.gz") + "\", \"cache\": true, \"checksum\": \"" + sum + "\"}";

  auto first = fetchJson(*f, "[" + uri + "]", d.file("s1"));
  INFO((first.ok() ? std::string() : first.error().message));
  REQUIRE(first.ok());
  CHECK(listing(d.file("s1")) == std::set<std::string>{"app", "app/run.sh"});
  CHECK(executable(d.file("s1/app/run.sh")));
  REQUIRE(fetchJson(*f, "[" + uri + "]", d.file("s2")).ok());
  CHECK(test::readFile(d.file("s2/app/run.sh")) == "#!/bin/sh\necho fetched\n");
  CHECK(s.requests == 1);
  CHECK(test::readFile(d.file("s2/stderr")).find("cached copy") != std::string::npos);

  auto bad = fetchJson(*f, "[{\"value\": \"" + s.url("/app.tar.gz") + "\", \"checksum\": \"sha256:" +
                               std::string(64, 'f') + "\"}]",
                       d.file("s3"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("checksum mismatch") != std::string::npos);
  CHECK(listing(d.file("s3")).empty());
  CHECK(s.requests == 2);

  auto missing = fetchJson(*f, "[{\"value\": \"" + s.url("/missing.tgz") + "\"}]", d.file("s4"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find(s.url("/missing.tgz")) != std::string::npos);
  CHECK(missing.error().message.find("404") != std::string::npos);
  CHECK(listing(d.file("s4")).empty());

  auto failing = fetchJson(*f, "[{\"value\": \"" + s.url("/slow/app.tar.gz") + "\", \"cache\": true}]", d.file("s5"));
  REQUIRE_FALSE(failing.ok());
  CHECK(failing.error().message.find("500") != std::string::npos);
  CHECK(listing(d.file("s5")).empty());
  CHECK(listing(d.file("cache")).size() == 1);
}
