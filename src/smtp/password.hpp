// SES-style SMTP passwords: derived from an access key's secret the way Amazon SES derives them
// (docs/smtp.md): the SigV4 signing-key chain over the date "11111111", the region, "ses" and
// "aws4_request", then HMAC-SHA256 of "SendRawEmail", prefixed with the version byte 0x04 and
// base64-encoded. Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace mailtally::smtp {

std::string smtp_password(std::string_view secret_access_key, std::string_view region);

}  // namespace mailtally::smtp
