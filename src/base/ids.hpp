// Identifier generation. Thread-safe.
#pragma once

#include <string>

namespace mailtally::base {

// A random RFC 4122 version-4 UUID in lower-case text form (request ids). Unique, not secret:
// do not use it for tokens.
std::string uuid4();

}  // namespace mailtally::base
