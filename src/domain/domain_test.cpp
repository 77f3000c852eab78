#include <gtest/gtest.h>

#include "domain/rules.hpp"

namespace mailtally::domain {
namespace {

EventDestination cloudwatch_destination(std::vector<DimensionConfiguration> dims) {
  EventDestination d;
  d.name = "cw";
  d.enabled = true;
  d.matching_event_types = {EventType::Send};
  d.cloudwatch = CloudWatchDestination{std::move(dims)};
  return d;
}

TEST(Rules, ConfigurationSetNames) {
  EXPECT_TRUE(check_configuration_set_name("cs_1-A"));
  EXPECT_TRUE(check_configuration_set_name(std::string(64, 'a')));
  EXPECT_FALSE(check_configuration_set_name(std::string(65, 'a')));
  EXPECT_FALSE(check_configuration_set_name(""));
  auto bad = check_configuration_set_name("cs 1");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().subject, Subject::ConfigurationSet);
  EXPECT_NE(bad.error().message.find("<cs 1>"), std::string::npos);
  EXPECT_FALSE(check_configuration_set_name("cs.1"));
  EXPECT_FALSE(check_configuration_set_name("cs:1"));
}

TEST(Rules, DimensionNamesAllowColonsAndDefaultsAllowAtAndDot) {
  auto ok =
      cloudwatch_destination({{"ses:configuration-set", DimensionValueSource::MessageTag, "my_set"},
                              {"campaign", DimensionValueSource::MessageTag, "user@example.com"}});
  EXPECT_TRUE(check_event_destination("cs", ok));
  auto bad_name = cloudwatch_destination({{"camp.aign", DimensionValueSource::MessageTag, "x"}});
  auto e = check_event_destination("cs", bad_name);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().subject, Subject::CloudWatchDestination);
  EXPECT_NE(e.error().message.find("camp.aign"), std::string::npos);
  EXPECT_FALSE(check_event_destination(
      "cs", cloudwatch_destination({{"c", DimensionValueSource::MessageTag, "a b"}})));
  EXPECT_FALSE(check_event_destination(
      "cs", cloudwatch_destination({{"c", DimensionValueSource::MessageTag, ""}})));
  EXPECT_TRUE(check_event_destination(
      "cs", cloudwatch_destination({{std::string(256, 'n'), DimensionValueSource::MessageTag,
                                     std::string(256, 'v')}})));
  EXPECT_FALSE(check_event_destination(
      "cs",
      cloudwatch_destination({{std::string(257, 'n'), DimensionValueSource::MessageTag, "v"}})));
}

TEST(Rules, ForbiddenHeaderDimensionsInAnyCase) {
  for (const char* name :
       {"Received", "to", "FROM", "dkim-signature", "Cc", "Message-ID", "return-path"}) {
    auto d = cloudwatch_destination({{name, DimensionValueSource::EmailHeader, "x"}});
    EXPECT_FALSE(check_event_destination("cs", d)) << name;
    // The same names are fine as message tags.
    auto tag = cloudwatch_destination({{name, DimensionValueSource::MessageTag, "x"}});
    EXPECT_TRUE(check_event_destination("cs", tag)) << name;
  }
  EXPECT_TRUE(check_event_destination(
      "cs", cloudwatch_destination({{"X-Campaign", DimensionValueSource::EmailHeader, "x"}})));
}

TEST(Rules, AtMostTenUniqueDimensions) {
  std::vector<DimensionConfiguration> dims;
  for (int i = 0; i < 10; ++i) {
    dims.push_back({"d" + std::to_string(i), DimensionValueSource::MessageTag, "x"});
  }
  EXPECT_TRUE(check_event_destination("cs", cloudwatch_destination(dims)));
  dims.push_back({"d10", DimensionValueSource::MessageTag, "x"});
  EXPECT_FALSE(check_event_destination("cs", cloudwatch_destination(dims)));
  EXPECT_FALSE(check_event_destination(
      "cs", cloudwatch_destination({{"a", DimensionValueSource::MessageTag, "x"},
                                    {"a", DimensionValueSource::EmailHeader, "y"}})));
}

TEST(Rules, ExactlyOneTargetAndValidArns) {
  EventDestination none;
  none.name = "d";
  none.matching_event_types = {EventType::Send};
  auto e = check_event_destination("cs", none);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().subject, Subject::EventDestination);

  auto two = cloudwatch_destination({{"c", DimensionValueSource::MessageTag, "x"}});
  two.sns = SnsDestination{"arn:aws:sns:us-east-1:123456789012:topic"};
  EXPECT_FALSE(check_event_destination("cs", two));

  EventDestination sns = none;
  sns.sns = SnsDestination{"arn:aws:sns:us-east-1:123456789012:my-topic"};
  EXPECT_TRUE(check_event_destination("cs", sns));
  sns.sns->topic_arn = "not-an-arn";
  auto bad = check_event_destination("cs", sns);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().subject, Subject::SnsDestination);
  sns.sns->topic_arn = "arn:aws:sqs:us-east-1:123456789012:q";
  EXPECT_FALSE(check_event_destination("cs", sns));

  EventDestination fh = none;
  fh.firehose = FirehoseDestination{"arn:aws:iam::123456789012:role/r",
                                    "arn:aws:firehose:us-east-1:123456789012:deliverystream/s"};
  EXPECT_TRUE(check_event_destination("cs", fh));
  EventDestination eb = none;
  eb.eventbridge =
      EventBridgeDestination{"arn:aws:events:us-east-1:123456789012:event-bus/default"};
  EXPECT_TRUE(check_event_destination("cs", eb));
}

TEST(Rules, NeedsAnEventType) {
  auto d = cloudwatch_destination({{"c", DimensionValueSource::MessageTag, "x"}});
  d.matching_event_types.clear();
  EXPECT_FALSE(check_event_destination("cs", d));
}

TEST(Rules, Identities) {
  EXPECT_TRUE(is_valid_email_address("user+tag@example.com"));
  EXPECT_TRUE(is_valid_email_address("success@simulator.amazonses.com"));
  EXPECT_FALSE(is_valid_email_address("no-at-sign"));
  EXPECT_FALSE(is_valid_email_address("a@b"));
  EXPECT_FALSE(is_valid_email_address("a..b@example.com"));
  EXPECT_TRUE(is_valid_domain("mail.example.com"));
  EXPECT_FALSE(is_valid_domain("-bad.example.com"));
  EXPECT_FALSE(is_valid_domain("localhost"));
}

TEST(Rules, PublishedEventNames) {
  EXPECT_EQ(event_type_name(EventType::RenderingFailure), "Rendering Failure");
  EXPECT_EQ(event_type_name(EventType::DeliveryDelay), "DeliveryDelay");
}

}  // namespace
}  // namespace mailtally::domain
