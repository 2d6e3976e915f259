// placeholder: being written
#include "cli/context.hpp"

namespace dcos::cli {
void addServiceCommands(std::vector<Command>&) {}
}  // namespace dcos::cli
