// Percent-encoding for URL query values (RFC 3986): every byte but the unreserved characters
// A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex). Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace mailtally::base {

std::string percent_encode(std::string_view s);

}  // namespace mailtally::base
