// Raw MIME intake: GMime parsing, header splitting and the X-SES header removal that
// SendRawEmail applies to outside bytes. Link: mailtally_sending.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sending/header_block.hpp"
#include "sending/mime_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto parsed = mailtally::sending::parse_message(raw);
  (void)parsed;
  auto block = mailtally::sending::split_headers(raw);
  if (block.body_offset > raw.size()) __builtin_trap();
  std::string cleaned =
      mailtally::sending::remove_headers(raw, {"X-SES-CONFIGURATION-SET", "X-SES-MESSAGE-TAGS"});
  if (cleaned.size() > raw.size()) __builtin_trap();
  std::string with_id = mailtally::sending::set_header(cleaned, "Message-ID", "<x@y>");
  (void)with_id;
  for (const auto& h : block.headers) {
    if (h.begin > h.end || h.end > raw.size()) __builtin_trap();
    (void)mailtally::sending::parse_address_list(h.value);
  }
  return 0;
}
