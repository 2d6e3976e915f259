// placeholder: being written
#include "cli/context.hpp"

namespace dcos::cli {
void addNodeCommands(std::vector<Command>&) {}
}  // namespace dcos::cli
