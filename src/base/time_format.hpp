// ISO-8601 and epoch conversions used by the wire formats. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailtally::base {

// Formats epoch seconds (fraction kept to milliseconds) as 2026-11-30T00:15:54.123Z; the
// fraction is omitted when it is zero.
std::string format_iso8601(double epoch_seconds);
// Parses 2026-11-30T00:15:54Z, with optional fraction and a Z or +hh:mm / -hh:mm offset, or a
// bare date. Returns epoch seconds.
std::optional<double> parse_iso8601(std::string_view text);
// Parses the SigV4 basic form 20261130T001554Z.
std::optional<long long> parse_amz_date(std::string_view text);

}  // namespace mailtally::base
