#pragma once
// Small helpers the /v2 route files share (private to marathon_like/).

#include "marathon_like/service_impl.hpp"

#include <set>
#include <string>

namespace dcos::marathon {

// The request body as JSON; kInvalidArgument (400) naming the parse error otherwise.
Result<Json> jsonBody(const http::Request& req);
// "/" + the {id*} path parameter, normalized: "prod/web/" -> "/prod/web".
std::string appIdParam(const http::Request& req);
// `embed=` values with `prefix` stripped ("apps.tasks" -> "tasks"), plus "counts" and
// "deployments", which Marathon always shows.
std::set<std::string> embedsOf(const http::Request& req, const std::string& prefix);
bool forced(const http::Request& req);  // ?force=true
http::Response appNotFound(const std::string& id);
// A deploy() error as Marathon answers it: a conflict lists the blocking deployments as
// {"message", "deployments": [{"id"}], "details"}.
http::Response deployError(const Error& error);
// A deploy() result: `status` with {"deploymentId", "version"} and the Marathon-Deployment-Id
// header, or the error.
http::Response deployed(int status, const Result<Json>& result);

}  // namespace dcos::marathon
