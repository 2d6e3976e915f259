#pragma once
// Maps method + path to handlers. Patterns are segment lists: "/v2/apps/{id*}/tasks" has a
// literal "v2", "apps", a greedy parameter spanning one or more segments ("prod/web"), and a
// literal "tasks"; "{name}" spans exactly one segment. When several patterns match, the one with
// more literal segments wins, then the one registered first. A path that matches no pattern is a
// JSON 404; one that matches only under other methods is a JSON 405 with an Allow header.

#include "common/http/http.hpp"

#include <string>
#include <vector>

namespace dcos::http {

class Router {
 public:
  void route(std::string method, std::string pattern, Handler handler);
  void routeAsync(std::string method, std::string pattern, AsyncHandler handler);

  // Answers the request: runs the matching handler (HEAD runs GET's and drops the body), or sends
  // the JSON 404/405. Exceptions thrown by a handler become a JSON 500.
  void dispatch(Request& request, Responder responder) const;

  // For tests and introspection: which handler matches, with what parameters.
  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    const AsyncHandler* handler = nullptr;
    std::map<std::string, std::string> params;
    std::vector<std::string> allowedMethods;  // filled for kMethodNotAllowed
  };
  Match match(std::string_view method, std::string_view path) const;

 private:
  struct Segment {
    enum Kind { kLiteral, kParam, kGreedy } kind;
    std::string text;  // literal text or parameter name
  };
  struct Route {
    std::string method;
    std::vector<Segment> segments;
    int literals = 0;
    AsyncHandler handler;
  };
  static bool matchSegments(const std::vector<Segment>& pattern, size_t pi,
                            const std::vector<std::string_view>& path, size_t si,
                            std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
};

}  // namespace dcos::http
