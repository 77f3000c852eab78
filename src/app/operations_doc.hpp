// Generates docs/operations.md: every operation of the three models, implemented or not.
#pragma once

#include <string>

namespace mailtally::app {

std::string operations_markdown();

}  // namespace mailtally::app
