// placeholder: being written
#include "cli/context.hpp"
