#include "common/http/router.hpp"

#include "common/log.hpp"

#include <exception>

namespace dcos::http {
namespace {

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string joinSegments(const std::vector<std::string_view>& s, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    if (i > from) out += '/';
    out += s[i];
  }
  return out;
}

}  // namespace

void Router::route(std::string method, std::string pattern, Handler handler) {
  routeAsync(std::move(method), std::move(pattern),
             [h = std::move(handler)](Request& request, Responder responder) {
               responder.send(h(request));
             });
}

void Router::routeAsync(std::string method, std::string pattern, AsyncHandler handler) {
  Route r;
  r.method = std::move(method);
  for (auto seg : splitPath(pattern)) {
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      std::string name(seg.substr(1, seg.size() - 2));
      bool greedy = !name.empty() && name.back() == '*';
      if (greedy) name.pop_back();
      r.segments.push_back({greedy ? Segment::kGreedy : Segment::kParam, name});
    } else {
      r.segments.push_back({Segment::kLiteral, std::string(seg)});
      ++r.literals;
    }
  }
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

bool Router::matchSegments(const std::vector<Segment>& pattern, size_t pi,
                           const std::vector<std::string_view>& path, size_t si,
                           std::map<std::string, std::string>* params) {
  if (pi == pattern.size()) return si == path.size();
  const Segment& seg = pattern[pi];
  switch (seg.kind) {
    case Segment::kLiteral:
      return si < path.size() && path[si] == seg.text &&
             matchSegments(pattern, pi + 1, path, si + 1, params);
    case Segment::kParam:
      if (si >= path.size()) return false;
      (*params)[seg.text] = std::string(path[si]);
      return matchSegments(pattern, pi + 1, path, si + 1, params);
    case Segment::kGreedy:
      // Longest first, so "/v2/apps/{id*}" takes all of "a/b/c"; the literals after a greedy
      // parameter pull it back ("/v2/apps/{id*}/tasks").
      for (size_t end = path.size(); end > si; --end) {
        if (matchSegments(pattern, pi + 1, path, end, params)) {
          (*params)[seg.text] = joinSegments(path, si, end);
          return true;
        }
      }
      return false;
  }
  return false;
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match best;
  const Route* found = nullptr;
  auto segments = splitPath(path);
  std::string_view effective = method == "HEAD" ? std::string_view("GET") : method;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!matchSegments(r.segments, 0, segments, 0, &params)) continue;
    if (r.method != effective) {
      best.allowedMethods.push_back(r.method);
      continue;
    }
    if (!found || r.literals > found->literals) {
      found = &r;
      best.params = std::move(params);
    }
  }
  if (found) {
    best.outcome = Outcome::kFound;
    best.handler = &found->handler;
    best.allowedMethods.clear();
  } else if (!best.allowedMethods.empty()) {
    best.outcome = Outcome::kMethodNotAllowed;
  }
  return best;
}

void Router::dispatch(Request& request, Responder responder) const {
  Match m = match(request.method, request.path);
  if (m.outcome == Outcome::kNotFound) {
    responder.send(Response::error(404, "No route for " + request.method + " " + request.path));
    return;
  }
  if (m.outcome == Outcome::kMethodNotAllowed) {
    std::string allow;
    for (const auto& meth : m.allowedMethods) {
      if (allow.find(meth) != std::string::npos) continue;
      if (!allow.empty()) allow += ", ";
      allow += meth;
    }
    Response r = Response::error(405, "Method " + request.method + " is not allowed on " + request.path,
                                 {{"method", {"allowed: " + allow}}});
    r.headers["Allow"] = allow;
    responder.send(std::move(r));
    return;
  }
  request.params = std::move(m.params);
  try {
    (*m.handler)(request, responder);
  } catch (const std::exception& e) {
    // A throwing handler is a bug; the client still gets JSON, and the log says which route.
    log::get("http").error("handler for {} {} threw: {}", request.method, request.path, e.what());
    responder.send(Response::error(500, std::string("Internal error: ") + e.what()));
  }
}

}  // namespace dcos::http
