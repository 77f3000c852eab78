#include "smtp/password.hpp"

#include "base/crypto.hpp"

namespace mailtally::smtp {

std::string smtp_password(std::string_view secret, std::string_view region) {
  std::string key = "AWS4";
  key += secret;
  base::Digest d = base::hmac_sha256(key, "11111111");
  d = base::hmac_sha256(base::as_view(d), region);
  d = base::hmac_sha256(base::as_view(d), "ses");
  d = base::hmac_sha256(base::as_view(d), "aws4_request");
  d = base::hmac_sha256(base::as_view(d), "SendRawEmail");
  std::string versioned(1, '\x04');
  versioned += base::as_view(d);
  return base::base64_encode(versioned);
}

}  // namespace mailtally::smtp
