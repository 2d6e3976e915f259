// placeholder: being written
#include "cli/context.hpp"

namespace dcos::cli {
void addMarathonCommands(std::vector<Command>&) {}
}  // namespace dcos::cli
