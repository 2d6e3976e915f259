#pragma once
// The offer kernel's entry points: the `dcos master`, `dcos agent` and `dcos dev` modes. Each
// mode declares its flags and runs until SIGINT/SIGTERM; the result is the process exit code.

#include "common/flags.hpp"

namespace dcos::kernel {

struct Mode {
  const char* name;
  const char* summary;
  void (*addFlags)(flags::FlagSet& flags);
  int (*run)(const flags::FlagSet& flags);
};

const Mode& masterMode();
const Mode& agentMode();
const Mode& devMode();
const Mode& executorMode();

}  // namespace dcos::kernel
