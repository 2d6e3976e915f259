// placeholder: being written (dispatch, help, completion, --version)
#include "cli/cli.hpp"

namespace dcos::cli {
bool handles(const std::string&) { return false; }
int run(const Invocation&) { return 2; }
void printCommandSummary(std::ostream&) {}
}  // namespace dcos::cli
