// appToJson: the model written back as Marathon's JSON (declared in app.hpp).
#include "marathon_like/app.hpp"

namespace dcos::marathon {

Json appToJson(const AppDefinition& app) {
  Json j = {{"id", app.id}};
  if (app.cmd) j["cmd"] = *app.cmd;
  if (app.args) j["args"] = *app.args;
  if (app.user) j["user"] = *app.user;
  j["env"] = app.env;
  j["labels"] = app.labels;
  j["instances"] = app.instances;
  j["cpus"] = app.cpus;
  j["mem"] = app.mem;
  j["disk"] = app.disk;
  j["gpus"] = app.gpus;
  j["fetch"] = Json::array();
  for (const auto& f : app.fetch) {
    Json uri = {{"uri", f.uri}, {"executable", f.executable}, {"extract", f.extract}, {"cache", f.cache}};
    if (f.outputFile) uri["outputFile"] = *f.outputFile;
    j["fetch"].push_back(std::move(uri));
  }
  j["portDefinitions"] = Json::array();
  for (const auto& p : app.portDefinitions) {
    Json port = {{"port", p.port}, {"protocol", p.protocol}, {"labels", p.labels}};
    if (p.name) port["name"] = *p.name;
    j["portDefinitions"].push_back(std::move(port));
  }
  j["requirePorts"] = app.requirePorts;
  j["constraints"] = Json::array();
  for (const auto& c : app.constraints) {
    Json row = {c.field, c.op};
    if (c.value) row.push_back(*c.value);
    j["constraints"].push_back(std::move(row));
  }
  j["acceptedResourceRoles"] = app.acceptedResourceRoles;
  j["healthChecks"] = app.healthChecks;
  j["readinessChecks"] = app.readinessChecks;
  j["dependencies"] = app.dependencies;
  j["upgradeStrategy"] = {{"minimumHealthCapacity", app.upgradeStrategy.minimumHealthCapacity},
                          {"maximumOverCapacity", app.upgradeStrategy.maximumOverCapacity}};
  j["backoffSeconds"] = app.backoffSeconds;
  j["backoffFactor"] = app.backoffFactor;
  j["maxLaunchDelaySeconds"] = app.maxLaunchDelaySeconds;
  j["killSelection"] = app.killSelection;
  if (app.unreachableStrategy.enabled) {
    j["unreachableStrategy"] = {{"inactiveAfterSeconds", app.unreachableStrategy.inactiveAfterSeconds},
                                {"expungeAfterSeconds", app.unreachableStrategy.expungeAfterSeconds}};
  } else {
    j["unreachableStrategy"] = "disabled";
  }
  if (!app.container.is_null()) j["container"] = app.container;
  if (app.version) j["version"] = *app.version;
  return j;
}

}  // namespace dcos::marathon
