// The contract every DestinationsStore implementation passes for SNS topics and subscriptions:
// idempotent creates (the first one stays), one subscription per endpoint, confirmation by
// token, cascade on topic deletion, a subscription needing its topic, and listings in creation
// order; and the send statistics folded from the event log once.
//
// A typed, parameterised GoogleTest suite: a test binary includes this header once and
// instantiates it with a Backend:
//   struct Backend {
//     using Store = ...;  // a domain::SnsStore and domain::SendStatisticsStore
//     std::unique_ptr<Store> open();  // a store over a fresh, empty database
//     // Appends to the event log, as the backend's sending pipeline does: a Send to a@x and b@x
//     // at 1800.5, then a Bounce of a@x and a Delivery at 2700.0 (sequence numbers 1, 2, 3).
//     void log_send_bounce_delivery();
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Name, DestinationsStoreContract, ::testing::Types<Backend>);
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "domain/send_statistics.hpp"
#include "domain/sns.hpp"

namespace mailtally::storage::contract {

inline constexpr std::string_view kTopic = "arn:aws:sns:us-east-1:123456789012:t";

inline domain::SnsSubscription subscription(std::string arn, std::string endpoint) {
  domain::SnsSubscription s;
  s.arn = std::move(arn);
  s.topic_arn = kTopic;
  s.protocol = "http";
  s.endpoint = std::move(endpoint);
  s.token = "tok-" + s.arn;
  s.confirmed = false;
  s.created_at = 1;
  return s;
}

template <typename Backend>
class DestinationsStoreContract : public ::testing::Test {
 protected:
  void SetUp() override { store_ = backend_.open(); }
  void TearDown() override { store_.reset(); }

  Backend backend_;
  std::unique_ptr<typename Backend::Store> store_;
};

TYPED_TEST_SUITE_P(DestinationsStoreContract);

TYPED_TEST_P(DestinationsStoreContract, TopicsAndSubscriptions) {
  auto* s = this->store_.get();
  domain::SnsTopic t{std::string(kTopic), "t", "Shown", 1};
  EXPECT_EQ(s->create_topic(t).display_name, "Shown");
  t.display_name = "other";
  EXPECT_EQ(s->create_topic(t).display_name, "Shown");  // idempotent: the first one stays
  EXPECT_EQ(s->list_topics().size(), 1u);
  EXPECT_EQ(s->get_topic(kTopic)->created_at, 1);

  auto a = s->subscribe(subscription(std::string(kTopic) + ":a", "http://h/a"));
  EXPECT_EQ(s->subscribe(subscription(std::string(kTopic) + ":other", "http://h/a")).arn, a.arn);
  s->subscribe(subscription(std::string(kTopic) + ":b", "http://h/b"));
  EXPECT_EQ(s->subscriptions(kTopic).size(), 2u);
  EXPECT_EQ(s->subscriptions("").size(), 2u);
  EXPECT_FALSE(s->confirm(kTopic, "wrong"));
  auto confirmed = s->confirm(kTopic, a.token);
  ASSERT_TRUE(confirmed);
  EXPECT_TRUE(confirmed->confirmed);
  EXPECT_TRUE(s->subscriptions(kTopic)[0].confirmed);
  EXPECT_FALSE(s->subscriptions(kTopic)[1].confirmed);
  EXPECT_TRUE(s->unsubscribe(a.arn));
  EXPECT_FALSE(s->unsubscribe(a.arn));
  EXPECT_TRUE(s->delete_topic(kTopic));
  EXPECT_FALSE(s->delete_topic(kTopic));
  EXPECT_TRUE(s->subscriptions("").empty());  // cascade
  EXPECT_FALSE(s->get_topic(kTopic));
  // A subscription needs its topic.
  EXPECT_THROW(s->subscribe(subscription("x", "http://h/x")), std::runtime_error);
}

TYPED_TEST_P(DestinationsStoreContract, TopicsAndSubscriptionsListInCreationOrder) {
  auto* s = this->store_.get();
  s->create_topic({"arn:b", "b", "", 2});
  s->create_topic({"arn:c", "c", "", 1});
  s->create_topic({"arn:a", "a", "", 2});
  auto topics = s->list_topics();
  ASSERT_EQ(topics.size(), 3u);
  EXPECT_EQ(topics[0].arn, "arn:c");
  EXPECT_EQ(topics[1].arn, "arn:a");
  EXPECT_EQ(topics[2].arn, "arn:b");
}

TYPED_TEST_P(DestinationsStoreContract, StatisticsAreFoldedFromTheEventLogOnce) {
  auto* s = this->store_.get();
  this->backend_.log_send_bounce_delivery();
  EXPECT_TRUE(s->send_statistics(0).empty());  // not folded yet
  EXPECT_EQ(s->fold_send_statistics(2), 2u);
  EXPECT_EQ(s->fold_send_statistics(100), 1u);
  EXPECT_EQ(s->fold_send_statistics(100), 0u);  // nothing is counted twice
  auto points = s->send_statistics(0);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].bucket, 1800);
  EXPECT_EQ(points[0].delivery_attempts, 2);
  EXPECT_EQ(points[1].bucket, 2700);
  EXPECT_EQ(points[1].bounces, 1);
  EXPECT_EQ(s->send_statistics(2000).size(), 1u);
}

REGISTER_TYPED_TEST_SUITE_P(DestinationsStoreContract, TopicsAndSubscriptions,
                            TopicsAndSubscriptionsListInCreationOrder,
                            StatisticsAreFoldedFromTheEventLogOnce);

}  // namespace mailtally::storage::contract
