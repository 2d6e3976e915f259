// placeholder: being written
#include "cli/context.hpp"

namespace dcos::cli {
void addClusterCommands(std::vector<Command>&) {}
}  // namespace dcos::cli
