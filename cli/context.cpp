// The Context: the clusters file, which cluster a command talks to, and HTTP exchanges whose
// failures become CLI errors with the documented exit codes.
#include "cli/context.hpp"

#include "common/http/client.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <ostream>
#include <sstream>

namespace dcos::cli {
namespace {

constexpr auto kRequestTimeout = std::chrono::seconds(10);

std::string envValue(const std::map<std::string, std::string>& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

std::string trimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The client's messages start with "METHOD URL: "; the CLI line names the cluster instead.
std::string withoutRequestPrefix(const std::string& message, const std::string& url) {
  size_t at = message.find(url);
  if (at != std::string::npos && at < 10) {
    size_t colon = message.find(": ", at + url.size());
    if (colon != std::string::npos) return message.substr(colon + 2);
  }
  return message;
}

Error transportError(const Error& e, const Cluster& cluster, const std::string& url) {
  std::string why = withoutRequestPrefix(e.message, url);
  if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTimeout) {
    return Error(e.code, "cannot reach the cluster at " + cluster.url + ": " + why);
  }
  return Error(e.code, "talking to the cluster at " + cluster.url + ": " + why);
}

Result<void> writeAtomically(const std::string& path, const std::string& content) {
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error(ErrorCode::kIo, "cannot create '" + temp + "': " + std::strerror(errno));
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(temp.c_str());
      return Error(ErrorCode::kIo, "cannot write '" + temp + "': " + why);
    }
    written += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(temp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(temp.c_str());
    return Error(ErrorCode::kIo, "cannot save '" + path + "': " + why);
  }
  return success();
}

}  // namespace

Context::Context(const std::map<std::string, std::string>& environment, std::ostream& output, std::ostream& errors)
    : out(output), err(errors), env(environment) {}

std::string Context::configDir() const {
  std::string dir = envValue(env, "DCOS_DIR");
  if (!dir.empty()) return trimSlash(dir);
  std::string home = envValue(env, "HOME");
  return (home.empty() ? std::string(".") : trimSlash(home)) + "/.dcos";
}

std::vector<Cluster> Context::clusters() const {
  std::ifstream in(configDir() + "/clusters.json");
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  auto json = parseJson(text.str());
  std::vector<Cluster> out;
  if (!json || !json->is_object() || !json->value("clusters", Json()).is_array()) return out;
  for (const auto& c : (*json)["clusters"]) {
    if (!c.is_object()) continue;
    Cluster cluster{c.value("name", ""), trimSlash(c.value("url", "")), c.value("token", ""), c.value("attached", false)};
    if (!cluster.name.empty() && !cluster.url.empty()) out.push_back(std::move(cluster));
  }
  return out;
}

Result<void> Context::saveClusters(const std::vector<Cluster>& clusters) const {
  std::string dir = configDir();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error(ErrorCode::kIo, "cannot create '" + dir + "': " + std::strerror(errno));
  }
  Json list = Json::array();
  for (const auto& c : clusters) {
    Json entry = {{"name", c.name}, {"url", c.url}, {"attached", c.attached}};
    if (!c.token.empty()) entry["token"] = c.token;
    list.push_back(std::move(entry));
  }
  return writeAtomically(dir + "/clusters.json", Json{{"clusters", list}}.dump(2) + "\n");
}

Result<Cluster> Context::cluster() const {
  std::vector<Cluster> all = clusters();
  if (std::string url = envValue(env, "DCOS_URL"); !url.empty()) {
    Cluster c{"DCOS_URL", trimSlash(url), "", true};
    // A configured cluster at the same URL lends its token.
    for (const auto& known : all) {
      if (known.url == c.url) c.token = known.token;
    }
    return c;
  }
  if (std::string name = envValue(env, "DCOS_CLUSTER"); !name.empty()) {
    for (const auto& c : all) {
      if (c.name == name) return c;
    }
    return Error(ErrorCode::kUnavailable, "no cluster named '" + name + "' (from DCOS_CLUSTER) is configured; see dcos cluster list");
  }
  for (const auto& c : all) {
    if (c.attached) return c;
  }
  if (all.empty()) {
    return Error(ErrorCode::kUnavailable, "no cluster is configured; run `dcos cluster setup URL` (e.g. http://127.0.0.1:5050)");
  }
  return Error(ErrorCode::kUnavailable, "no cluster is attached; run `dcos cluster attach NAME` (see dcos cluster list)");
}

Result<Context::Reply> Context::exchange(const std::string& method, const std::string& path, const std::string& body) const {
  auto target = cluster();
  if (!target) return target.error();
  http::ClientRequest request;
  request.method = method;
  request.url = target->url + path;
  request.body = body;
  request.timeout = kRequestTimeout;
  request.headers["Accept"] = "application/json";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    request.headers["Content-Type"] = "application/json";
  }
  if (!target->token.empty()) request.headers["Authorization"] = "token=" + target->token;
  auto response = http::fetch(request);
  if (!response) return transportError(response.error(), *target, request.url);
  if (response->status < 200 || response->status >= 300) return serverError(response->status, response->body);
  Reply reply;
  reply.status = response->status;
  for (const auto& [name, value] : response->headers) {
    std::string lower = name;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    reply.headers[lower] = value;
  }
  if (!response->body.empty()) {
    auto json = parseJson(response->body);
    if (!json) return Error(ErrorCode::kIo, "the cluster answered " + method + " " + path + " with a body that is not JSON");
    reply.body = std::move(*json);
  }
  return reply;
}

Result<Json> Context::get(const std::string& path) const {
  auto reply = exchange("GET", path, "");
  if (!reply) return reply.error();
  return std::move(reply->body);
}

Result<Json> Context::send(const std::string& method, const std::string& path, const Json& body) const {
  auto reply = exchange(method, path, body.is_null() ? std::string() : body.dump());
  if (!reply) return reply.error();
  return std::move(reply->body);
}

Result<void> Context::stream(const std::string& path, const std::function<bool(std::string_view)>& onData) const {
  auto target = cluster();
  if (!target) return target.error();
  http::ClientRequest request;
  request.url = target->url + path;
  request.timeout = kRequestTimeout;
  if (!target->token.empty()) request.headers["Authorization"] = "token=" + target->token;
  int status = 0;
  std::string refusal;  // the body of a non-2xx answer, kept for its message
  auto onHead = [&status](const http::ClientResponse& head) { status = head.status; };
  auto pass = [&](std::string_view piece) {
    if (status >= 200 && status < 300) return onData(piece);
    refusal.append(piece);
    return refusal.size() < 64 * 1024;
  };
  auto response = http::fetchStream(request, pass, Duration::zero(), onHead);
  if (!response) return transportError(response.error(), *target, request.url);
  if (response->status < 200 || response->status >= 300) return serverError(response->status, refusal);
  return success();
}

void Context::printJson(const Json& value) const {
  out << value.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace dcos::cli
