#include "web/web.hpp"

#include "common/http/router.hpp"
#include "common/log.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <optional>
#include <string>

namespace dcos::web {
namespace {

// The dashboard's pages. The browser-side app routes them, so each one, and every path below it
// ("/services/prod/web"), serves index.html. Keep in step with the app's routes.
constexpr std::array<std::string_view, 8> kPages = {
    "overview", "services", "nodes", "tasks", "deployments", "catalog", "frameworks", "events",
};

constexpr std::string_view kHtmlType = "text/html";

// Browsers may keep a URL that names fixed content ("/assets/app.js?v=<hash>") for a year.
constexpr std::string_view kForever = "public, max-age=31536000, immutable";
// Everything else is revalidated on each use; with the ETag that costs a 304 and no body.
constexpr std::string_view kRevalidate = "no-cache";

// Only our own files, only from our own origin: a dashboard that makes no external requests.
constexpr std::string_view kPagePolicy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The weight in one Accept-Encoding element's parameters ("q=0.5;x=y"): 1 when there is none,
// 0 when it does not parse, so that a garbled header falls back to the identity encoding.
double qValue(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = params.substr(0, semi);
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    size_t eq = param.find('=');
    if (eq == std::string_view::npos || !iequals(trim(param.substr(0, eq)), "q")) continue;
    std::string_view value = trim(param.substr(eq + 1));
    double q = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
    if (ec != std::errc() || end != value.data() + value.size() || q < 0 || q > 1) return 0;
    return q;
  }
  return 1;
}

// Whether an Accept-Encoding header allows gzip (RFC 9110 §12.5.3): named with a weight above 0,
// or not named and "*" allowed. No header at all means the client did not ask for compression.
bool acceptsGzip(std::string_view header) {
  std::optional<double> gzip, any;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view element = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    size_t semi = element.find(';');
    std::string_view coding = trim(element.substr(0, semi));
    double q = semi == std::string_view::npos ? 1.0 : qValue(element.substr(semi + 1));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      gzip = std::max(gzip.value_or(0.0), q);
    } else if (coding == "*") {
      any = q;
    }
  }
  if (gzip) return *gzip > 0;
  return any && *any > 0;
}

// Whether an If-None-Match header lists this entity tag, or is "*". If-None-Match compares weakly,
// so a "W/" prefix is ignored. A malformed list matches nothing, and the full body is sent.
bool listsTag(std::string_view header, std::string_view etag) {
  size_t i = 0;
  while (i < header.size()) {
    char c = header[i];
    if (c == ' ' || c == '\t' || c == ',') {
      ++i;
      continue;
    }
    if (c == '*') return true;
    if (header.substr(i, 2) == "W/") i += 2;
    if (i >= header.size() || header[i] != '"') return false;
    size_t close = header.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    if (header.substr(i, close - i + 1) == etag) return true;
    i = close + 1;
  }
  return false;
}

bool isHtml(const Asset& asset) { return asset.contentType.substr(0, kHtmlType.size()) == kHtmlType; }

std::string_view cachePolicy(const Asset& asset, const http::Request& request) {
  // Pages are always revalidated, so an upgraded master serves its new page, and through the
  // hashes in its links the new scripts and styles, at once.
  if (isHtml(asset)) return kRevalidate;
  auto version = request.queryParam("v");
  return version && *version == asset.hash ? kForever : kRevalidate;
}

http::Response serve(const Asset& asset, const http::Request& request) {
  bool gzip = !asset.gzipBody.empty() && acceptsGzip(request.header("Accept-Encoding"));
  http::Response response;
  response.headers["ETag"] = std::string(gzip ? asset.gzipEtag : asset.etag);
  response.headers["Cache-Control"] = std::string(cachePolicy(asset, request));
  // Caches must keep the two encodings apart, also for clients that sent no Accept-Encoding.
  if (!asset.gzipBody.empty()) response.headers["Vary"] = "Accept-Encoding";

  // The tag must be that of the representation this request would get: a cached gzip copy is
  // not a valid copy for a client that now refuses gzip.
  std::string ifNoneMatch = request.header("If-None-Match");
  if (!ifNoneMatch.empty() && listsTag(ifNoneMatch, response.headers["ETag"])) {
    response.status = 304;
    return response;
  }
  response.status = 200;
  response.headers["Content-Type"] = std::string(asset.contentType);
  response.headers["X-Content-Type-Options"] = "nosniff";
  if (isHtml(asset)) response.headers["Content-Security-Policy"] = std::string(kPagePolicy);
  if (gzip) response.headers["Content-Encoding"] = "gzip";
  response.body = std::string(gzip ? asset.gzipBody : asset.body);
  return response;
}

}  // namespace

const Asset* findAsset(std::string_view path) {
  for (const Asset& asset : assets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

namespace {

// --web_dir: every request reads the file; "/" and the page paths get index.html.
void registerDirectoryRoutes(http::Router& router, const std::string& dir) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
      {".json", "application/json"},         {".png", "image/png"}};
  auto file = [dir](const std::string& rel) {
    if (rel.find("..") != std::string::npos) return http::Response::error(404, "no such file");
    std::ifstream in(dir + "/" + rel, std::ios::binary);
    if (!in) return http::Response::error(404, "no such file: " + rel);
    std::ostringstream body;
    body << in.rdbuf();
    std::string type = "application/octet-stream";
    for (auto [ext, t] : kTypes) {
      if (rel.ends_with(ext)) type = std::string(t);
    }
    auto r = http::Response::text(200, body.str(), type);
    r.headers["Cache-Control"] = "no-store";
    if (rel == "index.html") r.headers["Content-Security-Policy"] = std::string(kPagePolicy);
    return r;
  };
  router.route("GET", "/", [file](const http::Request&) { return file("index.html"); });
  router.route("GET", "/assets/{path*}", [file](const http::Request& r) { return file(r.params.at("path")); });
  for (std::string_view page : kPages) {
    std::string path = "/" + std::string(page);
    router.route("GET", path, [file](const http::Request&) { return file("index.html"); });
    router.route("GET", path + "/{rest*}", [file](const http::Request&) { return file("index.html"); });
  }
  log::get("web").warn("serving the dashboard from '{}' (--web_dir), not the embedded copy", dir);
}

}  // namespace

void registerRoutes(http::Router& router, const std::string& assetsDir) {
  if (!assetsDir.empty()) {
    registerDirectoryRoutes(router, assetsDir);
    return;
  }
  size_t bytes = 0;
  for (const Asset& asset : assets()) {
    router.route("GET", std::string(asset.path), [&asset](const http::Request& request) {
      return serve(asset, request);
    });
    bytes += asset.body.size();
  }
  // embed.py refuses to generate assets without an index.html, so this is a broken build.
  const Asset* index = findAsset("/");
  if (index == nullptr) {
    log::get("web").error("the embedded dashboard has no index.html; web/embed.py is broken");
    std::abort();
  }
  for (std::string_view page : kPages) {
    std::string path = "/" + std::string(page);
    auto servePage = [index](const http::Request& request) { return serve(*index, request); };
    router.route("GET", path, servePage);
    router.route("GET", path + "/{rest*}", servePage);
  }
  log::get("web").debug("serving {} embedded dashboard files ({} bytes) and {} page paths", assets().size(),
                        bytes, kPages.size());
}

}  // namespace dcos::web
