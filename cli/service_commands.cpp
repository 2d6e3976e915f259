// dcos service list|shutdown: the frameworks registered with the master.
#include "cli/context.hpp"

#include <ostream>

namespace dcos::cli {
namespace {

double scalar(const Json& resources, const char* name) {
  if (!resources.is_object()) return 0;
  auto it = resources.find(name);
  return it != resources.end() && it->is_number() ? it->get<double>() : 0.0;
}

Result<void> list(Context& ctx, const Args& args) {
  if (!args.positional.empty()) return usageError("dcos service list takes no arguments");
  auto state = ctx.get("/master/state");
  if (!state) return state.error();
  Json frameworks = Json::array();
  for (const auto& f : state->value("frameworks", Json::array())) {
    if (f.value("active", false) || args.has("inactive")) frameworks.push_back(f);
  }
  if (args.has("json")) {
    ctx.printJson(frameworks);
    return success();
  }
  Table table({"NAME", "HOST", "ACTIVE", "TASKS", "CPU", "MEM", "DISK", "ID"});
  for (const auto& f : frameworks) {
    double cpus = 0, mem = 0, disk = 0;
    Json tasks = f.value("tasks", Json::array());
    for (const auto& t : tasks) {
      Json resources = t.value("resources", Json::object());
      cpus += scalar(resources, "cpus");
      mem += scalar(resources, "mem");
      disk += scalar(resources, "disk");
    }
    std::string host = f.value("hostname", "");
    table.add({f.value("name", ""), host.empty() ? "-" : host, f.value("active", false) ? "True" : "False",
               std::to_string(tasks.size()), formatScalar(cpus), formatScalar(mem), formatScalar(disk), f.value("id", "")});
  }
  table.print(ctx.out);
  return success();
}

// The Mesos operator API's TEARDOWN: the master kills the framework's tasks and forgets it.
Result<void> shutdown(Context& ctx, const Args& args) {
  if (args.positional.size() != 1) return usageError("expected one framework ID (usage: dcos service shutdown ID)");
  const std::string& id = args.positional[0];
  Json call = {{"type", "TEARDOWN"}, {"teardown", {{"framework_id", {{"value", id}}}}}};
  auto reply = ctx.send("POST", "/api/v1", call);
  if (!reply) return reply.error();
  ctx.out << "Shut down framework '" << id << "'\n";
  return success();
}

}  // namespace

void addServiceCommands(std::vector<Command>& commands) {
  commands.push_back({{"service", "list"}, "dcos service list [--json] [--inactive]",
                      "List the frameworks (services): their tasks and the resources the tasks hold",
                      {"json", "inactive"}, list});
  commands.push_back({{"service", "shutdown"}, "dcos service shutdown ID",
                      "Tear a framework down: the master kills its tasks and removes it", {}, shutdown});
}

}  // namespace dcos::cli
