// dcos node list|describe: the agents as GET /master/state shows them (`slaves`).
#include "cli/context.hpp"

#include <ostream>
#include <sstream>

namespace dcos::cli {
namespace {

double scalar(const Json& resources, const char* name) {
  if (!resources.is_object()) return 0;
  auto it = resources.find(name);
  return it != resources.end() && it->is_number() ? it->get<double>() : 0.0;
}

// "0.1/2": used of total.
std::string usage(const Json& agent, const char* name) {
  return formatScalar(scalar(agent.value("used_resources", Json()), name)) + "/" +
         formatScalar(scalar(agent.value("resources", Json()), name));
}

std::string text(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

Result<Json> agents(Context& ctx) {
  auto state = ctx.get("/master/state");
  if (!state) return state.error();
  Json slaves = state->value("slaves", Json::array());
  return slaves.is_array() ? slaves : Json::array();
}

Result<void> list(Context& ctx, const Args& args) {
  if (!args.positional.empty()) return usageError("dcos node list takes no arguments");
  auto slaves = agents(ctx);
  if (!slaves) return slaves.error();
  if (args.has("json")) {
    ctx.printJson(*slaves);
    return success();
  }
  Table table({"ID", "HOSTNAME", "CPUS", "MEM", "DISK", "STATUS"});
  for (const auto& a : *slaves) {
    table.add({text(a, "id"), text(a, "hostname"), usage(a, "cpus"), usage(a, "mem"), usage(a, "disk"), text(a, "state")});
  }
  table.print(ctx.out);
  return success();
}

// The agent whose id (or hostname) is `key`; a unique id prefix is enough.
Result<Json> findAgent(const Json& slaves, const std::string& key) {
  std::vector<const Json*> matches;
  for (const auto& a : slaves) {
    if (text(a, "id") == key) return a;
    if (text(a, "id").rfind(key, 0) == 0 || text(a, "hostname") == key) matches.push_back(&a);
  }
  if (matches.size() == 1) return *matches[0];
  if (matches.empty()) return Error(ErrorCode::kNotFound, "no agent '" + key + "' (see dcos node list)");
  std::string ids;
  for (const auto* a : matches) ids += (ids.empty() ? "" : ", ") + text(*a, "id");
  return Error(ErrorCode::kConflict, "'" + key + "' names " + std::to_string(matches.size()) + " agents: " + ids);
}

void describe(Context& ctx, const Json& a) {
  Table table({"FIELD", "VALUE"});
  table.add({"ID", text(a, "id")});
  table.add({"HOSTNAME", text(a, "hostname")});
  table.add({"PORT", text(a, "port")});
  table.add({"STATUS", text(a, "state")});
  table.add({"ACTIVE", a.value("active", false) ? "true" : "false"});
  table.add({"REGISTERED", formatTime(a.value("registered_time", 0.0))});
  for (const char* r : {"cpus", "mem", "disk", "gpus"}) table.add({std::string("USED/TOTAL ") + r, usage(a, r)});
  table.add({"PORTS", text(a.value("resources", Json::object()), "ports")});
  const Json attributes = a.value("attributes", Json::object());  // kept alive: items() refers to it
  for (const auto& [name, value] : attributes.items()) {
    table.add({"ATTRIBUTE " + name, value.is_string() ? value.get<std::string>() : value.dump()});
  }
  // A key/value listing reads better without the header row.
  std::ostringstream rendered;
  table.print(rendered);
  std::string body = rendered.str();
  ctx.out << body.substr(body.find('\n') + 1);
}

Result<void> describeCommand(Context& ctx, const Args& args) {
  if (args.positional.size() != 1) return usageError("expected one agent ID (usage: dcos node describe ID [--json])");
  auto slaves = agents(ctx);
  if (!slaves) return slaves.error();
  auto agent = findAgent(*slaves, args.positional[0]);
  if (!agent) return agent.error();
  if (args.has("json")) {
    ctx.printJson(*agent);
  } else {
    describe(ctx, *agent);
  }
  return success();
}

}  // namespace

void addNodeCommands(std::vector<Command>& commands) {
  commands.push_back({{"node", "list"}, "dcos node list [--json]",
                      "List the agents: resources used/total and status", {"json"}, list});
  commands.push_back({{"node", "describe"}, "dcos node describe ID [--json]",
                      "Show one agent (by id, unique id prefix or hostname)", {"json"}, describeCommand});
}

}  // namespace dcos::cli
