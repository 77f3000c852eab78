// Rewrites the text/html parts of a raw message inside its MIME structure (GMime, in the
// module libmailtally_mime.so like mime_parse.hpp). Used by open/click tracking.
//
// Every text/html leaf part that is not an attachment is decoded (transfer encoding removed,
// bytes left in the part's charset) and handed to `rewrite`; when it returns a new text the
// part's content is replaced and re-encoded with its transfer encoding (7bit / 8bit parts whose
// new text no longer fits that encoding — over-long lines, 8-bit bytes in 7bit — become
// quoted-printable, so the message stays valid). Parts in UTF-16/UTF-32 charsets are skipped.
// The rest of the message is written back as GMime read it; line endings stay CRLF when the
// input used CRLF.
//
// Thread-safe: each call works on its own GMime objects; `rewrite` runs on the calling thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mailtally::sending {

// Returns the new HTML, or nullopt to leave the part untouched.
using HtmlRewrite = std::function<std::optional<std::string>(std::string_view html)>;

// The rewritten message; nullopt when no part changed or the bytes are not a MIME message.
std::optional<std::string> rewrite_html_parts(std::string_view raw, const HtmlRewrite& rewrite);

}  // namespace mailtally::sending
