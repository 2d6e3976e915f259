// placeholder: being written
#include "cli/context.hpp"

namespace dcos::cli {
void addTaskCommands(std::vector<Command>&) {}
}  // namespace dcos::cli
