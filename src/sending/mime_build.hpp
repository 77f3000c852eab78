// Builds the MIME message of a Simple (subject + text/html body) send. Pure and thread-safe.
//
// Output: CRLF line endings; From, Reply-To, To, Cc, Subject, Message-ID, Date, MIME-Version,
// then a text/plain or text/html single part, or multipart/alternative (text first) when both
// are given. Non-ASCII header text becomes RFC 2047 encoded words (B, UTF-8 or the given
// charset); bodies are 7bit when they are short-lined ASCII, else quoted-printable (mostly
// ASCII) or base64.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtally::sending {

struct TextPart {
  std::string data;
  std::string charset = "UTF-8";
};

struct SimpleContent {
  std::string from;
  std::vector<std::string> to, cc, reply_to;
  TextPart subject;
  std::optional<TextPart> text, html;
  std::vector<std::pair<std::string, std::string>> extra_headers;  // v2 Simple.Headers
  std::string message_id_header;                                   // full value with angle brackets
  double date = 0;                                                 // epoch seconds
  std::string boundary;  // multipart boundary (caller supplies a random one)
};

std::string build_simple_message(const SimpleContent& content);

// Header text as is when it is printable ASCII, else RFC 2047 "B" encoded words of `charset`,
// folded so no encoded word exceeds 75 characters.
std::string encode_header_text(std::string_view text, std::string_view charset = "UTF-8");
// An address "Name <a@b>" with a non-ASCII display name encoded (the address stays as is).
std::string encode_address(std::string_view address);

// Quoted-printable (RFC 2045) with CRLF line breaks and soft breaks at 76 columns.
std::string quoted_printable(std::string_view data);
// Base64 in 76-column CRLF lines.
std::string base64_lines(std::string_view data);

}  // namespace mailtally::sending
