// Fetching a task's command.uris before it launches: on the loop's blocking pool, so the agent's
// loop never waits for a download.
#include "kernel/agent/agent.hpp"

#include "common/log.hpp"
#include "kernel/agent/fetcher.hpp"

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("agent"); }

}  // namespace

void Agent::fetchAndLaunch(const std::string& key, LaunchSpec spec, const Json& urisJson) {
  Task& t = tasks_.at(key);
  auto uris = parseFetchUris(urisJson);
  if (!uris) {
    logger().warn("cannot run task '{}' of framework '{}': {}", t.taskId, t.frameworkId, uris.error().message);
    sendStatus(t, "TASK_ERROR", uris.error().message, "REASON_TASK_INVALID");
    return;
  }
  if (!fetcher_) {
    FetcherOptions options;
    options.cacheDir = options_.workDir + "/fetcher-cache";
    options.cacheBytes = options_.fetcherCacheBytes;
    fetcher_ = makeFetcher(std::move(options));
  }
  logger().info("fetching {} URI(s) for task '{}' of framework '{}'", uris->size(), t.taskId, t.frameworkId);
  auto result = std::make_shared<Result<void>>();
  std::string sandbox = spec.sandbox;  // not from `spec` below: argument evaluation order is unspecified
  loop_.runBlocking(
      [fetcher = fetcher_, uris = std::move(*uris), sandbox = std::move(sandbox), result] {
        *result = fetcher->fetch(uris, sandbox);
      },
      [this, alive = std::weak_ptr<bool>(alive_), key, spec = std::move(spec), result] {
        if (alive.expired() || stopped_) return;
        auto it = tasks_.find(key);
        if (it == tasks_.end() || it->second.containerId != spec.containerId) return;
        Task& task = it->second;
        if (task.killRequested) {
          sendStatus(task, "TASK_KILLED", "Killed while its URIs were being fetched", "");
          finishFrameworkShutdown(task.frameworkId);
          return;
        }
        if (!*result) {
          logger().warn("task '{}' of framework '{}' failed: {}", task.taskId, task.frameworkId, result->error().message);
          sendStatus(task, "TASK_FAILED", "Failed to fetch URIs: " + result->error().message, "REASON_FETCHER_FAILED");
          finishFrameworkShutdown(task.frameworkId);
          return;
        }
        launch(key, spec);
      });
}

}  // namespace dcos::kernel
