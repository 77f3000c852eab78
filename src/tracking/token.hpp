// Tracking tokens: what an open pixel or a tracked link carries, signed so that nobody can make
// the server record an event (or redirect anywhere) it did not issue.
//
// Layout (then base64url without padding):
//   payload = version (1) | kind (1 open, 2 click) | message id
//             (0 field(id), or 1 and 27 bytes for an SES-form id: its hex digits packed and
//             the "-NNNNNN" suffix as a 3-byte number)
//             [click: field(link) | varint(tag count) | (field(name) field(value))*]
//   field   = varint(byte length) bytes        varint = LEB128, at most 4 bytes
//   token   = payload | first 16 bytes of HMAC-SHA256(secret, payload)
// Decoding is strict: the text must be canonical base64url, the MAC must match (compared in
// constant time), and the payload must be read exactly to its end.
//
// Pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtally::tracking {

enum class TokenKind : std::uint8_t { Open = 1, Click = 2 };

struct Token {
  TokenKind kind = TokenKind::Open;
  std::string message_id;
  std::string link;                                       // clicks: the original URL
  std::vector<std::pair<std::string, std::string>> tags;  // clicks: link tags, in order
  bool operator==(const Token&) const = default;
};

inline constexpr std::size_t kMacBytes = 16;
inline constexpr std::size_t kMaxTokenChars = 16 * 1024;  // longer texts are refused unread

std::string encode_token(std::string_view secret, const Token& token);
// nullopt for anything encode_token did not produce with this secret.
std::optional<Token> decode_token(std::string_view secret, std::string_view text);

// base64url (RFC 4648 section 5) without padding; decode refuses non-canonical text.
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace mailtally::tracking
