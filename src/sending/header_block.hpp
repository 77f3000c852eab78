// The header block of a raw RFC 5322 message, read and edited as bytes (so the rest of the
// message is delivered exactly as given). Pure, thread-safe, total over any input.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtally::sending {

struct RawHeader {
  std::string name;
  std::string value;  // unfolded (CRLF/LF + WSP -> the WSP), leading whitespace trimmed
  std::size_t begin = 0, end = 0;  // byte range of the whole field, line breaks included
};

struct HeaderBlock {
  std::vector<RawHeader> headers;
  std::size_t body_offset = 0;  // first byte after the blank line (== size when none)
  bool has_blank_line = false;
};

// Splits header fields up to the first empty line. Lines that are neither a field nor a
// continuation end the header block (as a lenient reader would).
HeaderBlock split_headers(std::string_view raw);

// `raw` without every field whose name equals one of `names` (case-insensitive).
std::string remove_headers(std::string_view raw, const std::vector<std::string_view>& names);

// Replaces the first field `name` (removing later ones) or, when absent, prepends it.
std::string set_header(std::string_view raw, std::string_view name, std::string_view value);

bool iequal(std::string_view a, std::string_view b);

}  // namespace mailtally::sending
