#pragma once
// What every long-running mode shares: logging set up from flags, a writable work directory,
// one event loop, an HTTP server on --address:--port, and a clean exit on SIGINT/SIGTERM.

#include "common/event_loop.hpp"
#include "common/flags.hpp"
#include "common/http/router.hpp"
#include "common/http/server.hpp"
#include "common/result.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dcos::kernel {

// Flags every daemon mode takes; `defaultPort` and `defaultWorkDir` differ per mode
// (an empty defaultWorkDir makes --work_dir required).
void addDaemonFlags(flags::FlagSet& flags, int defaultPort, const std::string& defaultWorkDir);

// Creates the directory if missing and proves it writable by writing a probe file.
Result<void> prepareWorkDir(const std::string& dir);

struct DaemonContext {
  EventLoop& loop;
  http::Router& router;
  const flags::FlagSet& flags;
  std::string workDir;  // absolute
  // Run in order once the loop has stopped, before it is destroyed: components whose threads
  // post to the loop, or whose children must not outlive the process, stop here.
  std::vector<std::function<void()>> onStopped;
  // Run on the loop when SIGINT/SIGTERM arrives, before the HTTP server shuts down: components
  // that should leave while the server still answers (dev mode's agent) stop here.
  std::vector<std::function<void()>> onStopping;
};

// Runs a daemon: `setup` registers routes and starts components (an error ends the process with
// exit 1 and the message on stderr); `onListening` gets the bound port. Returns the exit code.
int runDaemon(const char* mode, const flags::FlagSet& flags,
              const std::function<Result<void>(DaemonContext&)>& setup,
              const std::function<void(uint16_t port)>& onListening = {});

}  // namespace dcos::kernel
