// SES SMTP password derivation against values computed independently (Python hmac/hashlib,
// following the algorithm in docs/smtp.md) for the AWS documentation's example secret.
#include "smtp/password.hpp"

#include <gtest/gtest.h>

namespace mailtally::smtp {
namespace {

constexpr const char* kExampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

TEST(SmtpPassword, DerivedLikeSes) {
  EXPECT_EQ(smtp_password(kExampleSecret, "us-east-1"),
            "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9");
  EXPECT_EQ(smtp_password(kExampleSecret, "eu-west-1"),
            "BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk");
}

TEST(SmtpPassword, StartsWithTheVersionByte) {
  // 0x04 followed by 32 bytes: base64 of 33 bytes is 44 characters starting with 'B'.
  std::string p = smtp_password("another-secret", "us-east-1");
  EXPECT_EQ(p.size(), 44u);
  EXPECT_EQ(p[0], 'B');
}

}  // namespace
}  // namespace mailtally::smtp
