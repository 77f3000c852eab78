#include <gtest/gtest.h>

#include <vector>

#include "base/crypto.hpp"
#include "base/expected.hpp"
#include "base/ids.hpp"
#include "base/time_format.hpp"
#include "base/url.hpp"

namespace mailtally::base {

TEST(Crypto, Sha256OfEmptyString) {
  EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Crypto, HmacRfc4231Case2) {
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, Base64RoundTripAndRejectsGarbage) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto d = base64_decode(base64_encode(s));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, s);
  }
  EXPECT_FALSE(base64_decode("abc").has_value());
  EXPECT_FALSE(base64_decode("ab=c").has_value());
  EXPECT_FALSE(base64_decode("a$cd").has_value());
  EXPECT_EQ(*base64_decode("aGk="), "hi");
}

TEST(Time, Iso8601RoundTrip) {
  EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_iso8601(1704067200.5), "2024-01-01T00:00:00.500Z");
  EXPECT_EQ(*parse_iso8601("2024-01-01T00:00:00Z"), 1704067200);
  EXPECT_EQ(*parse_iso8601("2024-01-01T01:00:00+01:00"), 1704067200);
  EXPECT_DOUBLE_EQ(*parse_iso8601("2024-01-01T00:00:00.25Z"), 1704067200.25);
  EXPECT_EQ(*parse_iso8601("2024-01-01"), 1704067200);
  EXPECT_FALSE(parse_iso8601("2024-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601("yesterday"));
}

TEST(Time, AmzDate) {
  EXPECT_EQ(*parse_amz_date("20240101T000000Z"), 1704067200);
  EXPECT_FALSE(parse_amz_date("2024-01-01T00:00:00Z"));
}

TEST(Expected, HoldsValueOrError) {
  Expected<int, std::string> ok = 3;
  Expected<int, std::string> bad = unexpected(std::string("no"));
  EXPECT_TRUE(ok);
  EXPECT_EQ(*ok, 3);
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error(), "no");
}

}  // namespace mailtally::base

namespace mailtally::base {

TEST(Ids, Uuid4HasTheVersionAndVariantAndIsUnique) {
  std::string a = uuid4(), b = uuid4();
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a[13], '-');
  EXPECT_EQ(a[14], '4');
  EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b') << a;
  EXPECT_NE(a, b);
}

TEST(Url, PercentEncodeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(percent_encode("arn:aws:sns:us-east-1:1:t/x y"),
            "arn%3Aaws%3Asns%3Aus-east-1%3A1%3At%2Fx%20y");
  EXPECT_EQ(percent_encode(std::string("\x00\xff", 2)), "%00%FF");
  EXPECT_EQ(percent_encode(""), "");
}

}  // namespace mailtally::base
