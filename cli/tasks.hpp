#pragma once
// What the `dcos task` commands share (private to cli/): the tasks of GET /master/state with
// their agent and framework, picking the one a TASK argument names, and finding a task's sandbox
// so the master's files API (/agent/<id>/files/...) can read it.

#include "cli/context.hpp"

#include <string>
#include <vector>

namespace dcos::cli {

struct TaskRef {
  Json task;                // as /master/state lists it
  std::string agentId, agentHostname, frameworkId, frameworkUser;
  bool completed = false;
};

// Every task of the cluster; completed ones (from `completed_tasks`) too when `all`.
Result<std::vector<TaskRef>> clusterTasks(Context& ctx, bool all);

// Whether `filter` names the task: a glob (with * ? [) over its id or name, else a substring
// of either. An empty filter matches every task.
bool taskMatches(const Json& task, const std::string& filter);

// The one task `key` names: an exact id, else the single match of taskMatches() among the
// running tasks, else among the completed ones. kNotFound for none; kConflict (exit 1) naming
// the matching ids for several.
Result<TaskRef> resolveTask(Context& ctx, const std::string& key);

// The absolute sandbox path of the task on its agent: from the agent's /state (through the
// master's /agent/<id>/state when it serves it, else from the agent directly), and for the
// agent of a `dcos dev` cluster from the master's work_dir and the task's container id.
Result<std::string> taskSandbox(Context& ctx, const TaskRef& task);

// "/agent/<id>/files/<op>?path=<escaped path>".
std::string filesTarget(const std::string& agentId, const std::string& op, const std::string& path);

}  // namespace dcos::cli
