// dcos cluster setup|list|attach|remove: the clusters this CLI knows, in <config dir>/clusters.json.
#include "cli/context.hpp"

#include "common/http/client.hpp"

#include <algorithm>
#include <ostream>

namespace dcos::cli {
namespace {

// "10.0.0.1:5050" → "http://10.0.0.1:5050"; no trailing '/'.
std::string normalizeUrl(std::string url) {
  if (url.find("://") == std::string::npos) url = "http://" + url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// Whether `url` answers as a dcos master: GET /health ({"role": "master", ...}), else GET
// /v2/info for a Marathon-only endpoint. Fails with the reason otherwise.
Result<void> probe(const std::string& url, const std::string& token) {
  Result<void> last = success();
  for (const char* path : {"/health", "/v2/info"}) {
    http::ClientRequest request;
    request.url = url + path;
    request.timeout = std::chrono::seconds(10);
    request.headers["Accept"] = "application/json";
    if (!token.empty()) request.headers["Authorization"] = "token=" + token;
    auto reply = http::fetch(request);
    if (!reply) {
      std::string why = reply.error().message;
      if (size_t at = why.find(request.url + ": "); at != std::string::npos) why = why.substr(at + request.url.size() + 2);
      return Error(reply.error().code, "cannot reach the cluster at " + url + ": " + why);
    }
    if (reply->status >= 200 && reply->status < 300 && parseJson(reply->body)) return success();
    last = serverError(reply->status, reply->body);
  }
  return Error(last.error().code, url + " does not answer as a dcos cluster: " + last.error().message);
}

Result<void> setup(Context& ctx, const Args& args) {
  if (args.positional.size() != 1) return usageError("expected one URL (usage: dcos cluster setup URL [--name N] [--token T])");
  std::string url = normalizeUrl(args.positional[0]);
  auto parsed = http::parseUrl(url);
  if (!parsed) return usageError("'" + args.positional[0] + "' is not a cluster URL: " + parsed.error().message);
  std::string token = args.value("token").value_or("");
  if (auto ok = probe(url, token); !ok) return ok.error();
  std::string name = args.value("name").value_or(parsed->authority());
  if (name.empty()) return usageError("--name must not be empty");
  std::vector<Cluster> clusters = ctx.clusters();
  auto it = std::find_if(clusters.begin(), clusters.end(), [&](const Cluster& c) { return c.name == name; });
  if (it == clusters.end()) it = clusters.insert(clusters.end(), Cluster{name, url, token, false});
  it->url = url;
  it->token = token;
  for (auto& c : clusters) c.attached = c.name == name;
  if (auto saved = ctx.saveClusters(clusters); !saved) return saved;
  ctx.out << "Cluster '" << name << "' at " << url << " is set up and attached\n";
  return success();
}

Result<void> list(Context& ctx, const Args& args) {
  if (!args.positional.empty()) return usageError("dcos cluster list takes no arguments");
  std::vector<Cluster> clusters = ctx.clusters();
  if (args.has("json")) {
    Json out = Json::array();
    for (const auto& c : clusters) out.push_back({{"name", c.name}, {"url", c.url}, {"attached", c.attached}});
    ctx.printJson(out);
    return success();
  }
  if (clusters.empty()) {
    ctx.err << "No clusters are configured; run `dcos cluster setup URL`\n";
    return success();
  }
  Table table({"NAME", "URL", "ATTACHED"});
  for (const auto& c : clusters) table.add({c.name, c.url, c.attached ? "*" : ""});
  table.print(ctx.out);
  return success();
}

Result<std::vector<Cluster>::iterator> named(std::vector<Cluster>& clusters, const std::string& name) {
  auto it = std::find_if(clusters.begin(), clusters.end(), [&](const Cluster& c) { return c.name == name; });
  if (it != clusters.end()) return it;
  std::string known;
  for (const auto& c : clusters) known += (known.empty() ? "" : ", ") + c.name;
  return Error(ErrorCode::kNotFound, "no cluster named '" + name + "' is configured" +
                                         (known.empty() ? std::string() : " (configured: " + known + ")"));
}

Result<void> attach(Context& ctx, const Args& args) {
  if (args.positional.size() != 1) return usageError("expected one cluster NAME (usage: dcos cluster attach NAME)");
  std::vector<Cluster> clusters = ctx.clusters();
  auto it = named(clusters, args.positional[0]);
  if (!it) return it.error();
  for (auto& c : clusters) c.attached = false;
  (*it)->attached = true;
  if (auto saved = ctx.saveClusters(clusters); !saved) return saved;
  ctx.out << "Attached to cluster '" << (*it)->name << "' at " << (*it)->url << "\n";
  return success();
}

Result<void> remove(Context& ctx, const Args& args) {
  if (args.positional.size() != 1) return usageError("expected one cluster NAME (usage: dcos cluster remove NAME)");
  std::vector<Cluster> clusters = ctx.clusters();
  auto it = named(clusters, args.positional[0]);
  if (!it) return it.error();
  std::string name = (*it)->name;
  clusters.erase(*it);
  if (auto saved = ctx.saveClusters(clusters); !saved) return saved;
  ctx.out << "Removed cluster '" << name << "'\n";
  return success();
}

}  // namespace

void addClusterCommands(std::vector<Command>& commands) {
  commands.push_back({{"cluster", "setup"}, "dcos cluster setup URL [--name N] [--token T]",
                      "Check that URL answers as a dcos cluster, remember it and attach to it", {"name=", "token="}, setup});
  commands.push_back({{"cluster", "list"}, "dcos cluster list [--json]",
                      "List the configured clusters; * marks the attached one", {"json"}, list});
  commands.push_back({{"cluster", "attach"}, "dcos cluster attach NAME",
                      "Make NAME the cluster commands talk to ($DCOS_URL and $DCOS_CLUSTER override it)", {}, attach});
  commands.push_back({{"cluster", "remove"}, "dcos cluster remove NAME", "Forget the cluster NAME", {}, remove});
}

}  // namespace dcos::cli
