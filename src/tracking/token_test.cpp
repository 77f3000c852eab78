#include "tracking/token.hpp"

#include <gtest/gtest.h>

namespace mailtally::tracking {
namespace {

const std::string kSecret(32, 'k');

Token click_token() {
  return Token{TokenKind::Click,
               "0100018c-abc-000000",
               "https://example.com/a?b=c#d",
               {{"product", "book"}, {"genre", "fiction"}}};
}

TEST(TrackingToken, RoundTripsOpenAndClick) {
  Token open{TokenKind::Open, "0100018c-abc-000000", {}, {}};
  EXPECT_EQ(decode_token(kSecret, encode_token(kSecret, open)), open);
  EXPECT_EQ(decode_token(kSecret, encode_token(kSecret, click_token())), click_token());
}

TEST(TrackingToken, PacksSesMessageIds) {
  Token t{TokenKind::Open, "010001a22a79311e-dad4098c-edb9-4fc1-844c-fbadb6da9f8c-000042", {}, {}};
  std::string text = encode_token(kSecret, t);
  EXPECT_EQ(decode_token(kSecret, text), t);
  EXPECT_EQ(text.size(), base64url_encode(std::string(2 + 1 + 27 + kMacBytes, 'x')).size());
  // Ids of other forms (upper-case hex here) travel as text, unchanged.
  Token upper{
      TokenKind::Open, "010001A22A79311E-dad4098c-edb9-4fc1-844c-fbadb6da9f8c-000042", {}, {}};
  EXPECT_EQ(decode_token(kSecret, encode_token(kSecret, upper)), upper);
}

TEST(TrackingToken, IsUrlSafe) {
  std::string t = encode_token(kSecret, click_token());
  EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
}

TEST(TrackingToken, RefusesAnotherSecret) {
  std::string t = encode_token(kSecret, click_token());
  EXPECT_FALSE(decode_token(std::string(32, 'x'), t));
}

TEST(TrackingToken, RefusesEveryAlteredCharacter) {
  std::string t = encode_token(kSecret, click_token());
  for (std::size_t i = 0; i < t.size(); ++i) {
    std::string altered = t;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(decode_token(kSecret, altered)) << "position " << i;
  }
  EXPECT_FALSE(decode_token(kSecret, t.substr(0, t.size() - 1)));
  EXPECT_FALSE(decode_token(kSecret, t + "A"));
  EXPECT_FALSE(decode_token(kSecret, ""));
  EXPECT_FALSE(decode_token(kSecret, "AAAA"));
}

TEST(TrackingToken, Base64UrlIsCanonical) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff"));
  EXPECT_FALSE(base64url_decode("-_9"));  // non-zero unused bits
  EXPECT_FALSE(base64url_decode("-_8="));
  EXPECT_FALSE(base64url_decode("+/8"));
}

}  // namespace
}  // namespace mailtally::tracking
