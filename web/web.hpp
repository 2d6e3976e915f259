#pragma once
// The dashboard: static files embedded into the binary at build time (web/embed.py writes them
// into a generated .cpp) and served by the master at "/", "/assets/..." and the dashboard's page
// paths, with content types, ETags, revalidation and gzip. No Beast and no JSON here.

#include <span>
#include <string>
#include <string_view>

namespace dcos::http {
class Router;
}

namespace dcos::web {

// One embedded file as web/embed.py generated it. Every view points into static storage.
struct Asset {
  std::string_view path;         // URL path: "/" for index.html, "/assets/<file>" for the rest
  std::string_view contentType;  // e.g. "text/javascript; charset=utf-8"
  std::string_view body;         // the file's bytes (HTML with its asset links pinned, see hash)
  std::string_view gzipBody;     // gzip of body, written with mtime 0; empty when not smaller
  std::string_view hash;         // first 16 hex digits of sha256(body); HTML links add "?v=<hash>"
  std::string_view etag;         // strong ETag of body: the quoted hash
  std::string_view gzipEtag;     // strong ETag of gzipBody; empty when gzipBody is
};

// Every embedded asset, sorted by file name. Defined in the generated source.
std::span<const Asset> assets();

// The asset served at exactly this URL path ("/", "/assets/app.js"), or nullptr.
const Asset* findAsset(std::string_view path);

// GET (and so HEAD) routes for every asset and for the dashboard's pages ("/services",
// "/services/prod/web", ...), which serve index.html so that the app routes in the browser.
// Adds no catch-all: any other path stays the router's JSON 404.
// With `assetsDir` (the master's --web_dir, for developing the dashboard) the files are read from
// that directory on each request instead, without caching, so an edit shows on the next reload.
void registerRoutes(http::Router& router, const std::string& assetsDir = "");

}  // namespace dcos::web
