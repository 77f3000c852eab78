// Reads a raw message with GMime 3: its addresses, decoded subject, ids, and whether any part
// carries the EICAR test signature. g_mime_init() runs once, on first use.
//
// Thread-safe: each call parses into its own GMime objects.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailtally::sending {

struct ParsedMessage {
  std::vector<std::string> from, to, cc, bcc;  // as shown: "Name <a@b>" (decoded) or "a@b"
  std::vector<std::string> from_addresses, to_addresses, cc_addresses, bcc_addresses;  // a@b
  std::optional<std::string> subject;     // decoded (UTF-8)
  std::optional<std::string> message_id;  // without angle brackets
  std::optional<std::string> date;        // header text as given
  bool has_eicar = false;
};

// nullopt (with `error`) when GMime cannot read a message from the bytes.
std::optional<ParsedMessage> parse_message(std::string_view raw, std::string* error = nullptr);

// Parses an address list header value ("A <a@b>, c@d") into bare addresses; invalid entries
// are returned as given so callers can reject them.
std::vector<std::string> parse_address_list(std::string_view value);

// True when `data` contains the EICAR anti-virus test signature.
bool contains_eicar(std::string_view data);

}  // namespace mailtally::sending
