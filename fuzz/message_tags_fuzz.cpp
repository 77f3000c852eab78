// The X-SES-MESSAGE-TAGS parser. Link: mailtally_sending.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sending/tags.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);
  auto tags = mailtally::sending::parse_message_tags_header(value);
  for (const auto& t : tags) {
    if (t.name.empty() || !t.from_header) __builtin_trap();
    if (t.name.size() + t.value.size() > size) __builtin_trap();
    (void)mailtally::sending::is_valid_tag_part(t.name);
  }
  return 0;
}
