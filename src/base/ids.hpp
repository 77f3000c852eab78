// Identifier generation. Thread-safe.
#pragma once

#include <string>

namespace mailtally::base {

// A random RFC 4122 version-4 UUID in lower-case text form (request ids).
std::string uuid4();

}  // namespace mailtally::base
