#include <gtest/gtest.h>

#include "domain/publishing.hpp"

namespace mailtally::domain {
namespace {

EventDestination destination(std::vector<DimensionConfiguration> dims,
                             std::vector<EventType> types = {EventType::Send,
                                                             EventType::Delivery}) {
  EventDestination d;
  d.name = "cw";
  d.enabled = true;
  d.matching_event_types = std::move(types);
  d.cloudwatch = CloudWatchDestination{std::move(dims)};
  return d;
}

EventFacts send_event() {
  EventFacts e;
  e.type = EventType::Send;
  e.timestamp = 1000;
  e.tags = {{"campaign", "book", false},
            {"ses:configuration-set", "cs1", false},
            {"ses:from-domain", "example.com", false}};
  e.headers = {{"From", "a@example.com"}, {"X-Genre", "fiction"}};
  return e;
}

TEST(Publishing, MessageTagValueOrDefault) {
  auto d = destination({{"campaign", DimensionValueSource::MessageTag, "none"},
                        {"absent", DimensionValueSource::MessageTag, "dflt"}});
  auto out = publish(d, send_event());
  ASSERT_TRUE(out && out->datapoint);
  EXPECT_EQ(out->datapoint->metric_name, "Send");
  EXPECT_EQ(out->datapoint->value, 1);
  ASSERT_EQ(out->datapoint->dimensions.size(), 2u);
  EXPECT_EQ(out->datapoint->dimensions[0],
            (std::pair<std::string, std::string>{"campaign", "book"}));
  EXPECT_EQ(out->datapoint->dimensions[1], (std::pair<std::string, std::string>{"absent", "dflt"}));
}

TEST(Publishing, AutoTagsAreMessageTagsAndNothingIsAdded) {
  auto d = destination({{"ses:from-domain", DimensionValueSource::MessageTag, "x"}});
  auto out = publish(d, send_event());
  ASSERT_TRUE(out->datapoint);
  ASSERT_EQ(out->datapoint->dimensions.size(), 1u);
  EXPECT_EQ(out->datapoint->dimensions[0].second, "example.com");
}

TEST(Publishing, EmailHeaderIsCaseInsensitive) {
  auto d = destination({{"x-genre", DimensionValueSource::EmailHeader, "none"}});
  auto out = publish(d, send_event());
  ASSERT_TRUE(out->datapoint);
  EXPECT_EQ(out->datapoint->dimensions[0].second, "fiction");
}

TEST(Publishing, BadHeaderCharactersDropTheDatapoint) {
  auto e = send_event();
  e.headers.push_back({"X-Campaign", "spring sale"});
  auto out = publish(destination({{"X-Campaign", DimensionValueSource::EmailHeader, "n"}}), e);
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->datapoint);
  EXPECT_EQ(out->dropped, DropReason::BadHeaderCharacters);
  EXPECT_EQ(out->dimension, "X-Campaign");

  e.headers.back().second = "caf\xc3\xa9";
  out = publish(destination({{"X-Campaign", DimensionValueSource::EmailHeader, "n"}}), e);
  EXPECT_EQ(out->dropped, DropReason::NonAscii);

  e.headers.back().second = "user@example.com";
  out = publish(destination({{"X-Campaign", DimensionValueSource::EmailHeader, "n"}}), e);
  ASSERT_TRUE(out->datapoint);
}

TEST(Publishing, HeaderSourcedTagsAreChecked) {
  auto e = send_event();
  e.tags.push_back({"promo", "a+b", true});
  auto out = publish(destination({{"promo", DimensionValueSource::MessageTag, "n"}}), e);
  EXPECT_EQ(out->dropped, DropReason::BadHeaderCharacters);
}

TEST(Publishing, LinkTagsOnlyForClicks) {
  auto d = destination({{"product", DimensionValueSource::LinkTag, "none"}},
                       {EventType::Send, EventType::Click});
  auto send = publish(d, send_event());
  ASSERT_TRUE(send);
  EXPECT_EQ(send->dropped, DropReason::LinkTagOnNonClick);
  auto click = send_event();
  click.type = EventType::Click;
  click.link_tags = {{"product", "book"}};
  auto out = publish(d, click);
  ASSERT_TRUE(out->datapoint);
  EXPECT_EQ(out->datapoint->metric_name, "Click");
  EXPECT_EQ(out->datapoint->dimensions[0].second, "book");
}

TEST(Publishing, DisabledUnmatchedOrOtherDestinationsPublishNothing) {
  auto d = destination({{"campaign", DimensionValueSource::MessageTag, "none"}});
  d.enabled = false;
  EXPECT_FALSE(publish(d, send_event()));
  d.enabled = true;
  auto bounce = send_event();
  bounce.type = EventType::Bounce;
  EXPECT_FALSE(publish(d, bounce));
  EventDestination sns;
  sns.enabled = true;
  sns.matching_event_types = {EventType::Send};
  sns.sns = SnsDestination{"arn:aws:sns:us-east-1:123456789012:t"};
  EXPECT_FALSE(publish(sns, send_event()));
}

TEST(Publishing, MetricNames) {
  EXPECT_EQ(metric_name(EventType::RenderingFailure), "Rendering Failure");
  EXPECT_EQ(metric_name(EventType::Complaint), "Complaint");
}

}  // namespace
}  // namespace mailtally::domain
