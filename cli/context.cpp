// placeholder: being written (config, HTTP, Table, formatting)
#include "cli/context.hpp"
