// The tracking-token decoder (the /t/o/ and /t/c/ path segment). Link: mailtally_tracking.
// Input byte 0 even: the rest is a token text as a client would send it. Odd: the rest is a
// payload, signed here, so the fuzzer also reaches the payload reader behind the MAC.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/crypto.hpp"
#include "tracking/token.hpp"

namespace {
const std::string kSecret(32, 's');
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailtally::tracking;
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string text;
  if (data[0] % 2 == 0) {
    text = std::string(rest);
  } else {
    auto mac = mailtally::base::hmac_sha256(kSecret, rest);
    text = base64url_encode(std::string(rest) +
                            std::string(reinterpret_cast<const char*>(mac.data()), kMacBytes));
  }
  auto token = decode_token(kSecret, text);
  if (!token) return 0;
  // Whatever decodes is canonical: encoding it again gives the same text.
  if (encode_token(kSecret, *token) != text) __builtin_trap();
  if (token->message_id.empty()) __builtin_trap();
  if (token->kind != TokenKind::Click && (!token->link.empty() || !token->tags.empty())) {
    __builtin_trap();
  }
  return 0;
}
