#pragma once
// The binary's modes, wiring the components together: `dcos master` (kernel master + service
// scheduler + dashboard), `dcos agent`, `dcos dev` (both in one process) and `dcos executor`. Each
// mode declares its flags and runs until SIGINT/SIGTERM; the result is the process exit code.
// A mode's name may be two words ("master token"): a sub-command of a mode.

#include "common/flags.hpp"

namespace dcos::node {

struct Mode {
  const char* name;
  const char* summary;
  void (*addFlags)(flags::FlagSet& flags);
  int (*run)(const flags::FlagSet& flags);
};

const Mode& masterMode();
const Mode& masterTokenMode();  // `dcos master token`: prints the join token
const Mode& agentMode();
const Mode& devMode();
const Mode& executorMode();

}  // namespace dcos::node
