// SMTP reply parsing (RFC 5321 section 4.2, enhanced status codes of RFC 3463). Pure and
// thread-safe; the relay client feeds it the bytes read so far, the fuzzer arbitrary bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mailtally::relay {

struct SmtpReply {
  int code = 0;                             // 200..599
  std::string enhanced;                     // "5.1.1" when the first line starts with one, else ""
  std::vector<std::string> lines;           // the text of each line, after "DDD-" / "DDD "
  int klass() const { return code / 100; }  // 2, 3, 4 or 5
  // "550 5.1.1 user unknown": the code and the lines' text joined with single spaces.
  std::string text() const;
};

enum class ReplyParse {
  Complete,    // `out` holds one reply; `consumed` bytes of the buffer belong to it
  Incomplete,  // the buffer ends inside a reply: read more
  Malformed,   // not an SMTP reply (bad code, mixed codes, line or reply too long)
};

inline constexpr std::size_t kMaxReplyLine = 4096;    // bytes per line, CRLF included
inline constexpr std::size_t kMaxReplyBytes = 65536;  // bytes per (multi-line) reply
inline constexpr std::size_t kMaxReplyLines = 256;

// Parses the reply at the start of `buffer`. Lines end in CRLF (a bare LF is accepted).
ReplyParse parse_reply(std::string_view buffer, SmtpReply& out, std::size_t& consumed);

// The enhanced status code ("x.y.z") at the start of `text`, or "" when there is none or its
// class digit is not `klass`.
std::string enhanced_status_prefix(std::string_view text, int klass);

}  // namespace mailtally::relay
