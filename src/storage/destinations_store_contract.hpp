// The contract every DestinationsStore implementation passes for SNS topics and subscriptions:
// idempotent creates (the first one stays), one subscription per endpoint, confirmation by
// token, cascade on topic deletion, a subscription needing its topic, and listings in creation
// order. (The send-statistics fold needs an event log written by each backend's own sending
// store, so its tests stay beside each backend.)
//
// A typed, parameterised GoogleTest suite: a test binary includes this header once and
// instantiates it with a Backend:
//   struct Backend {
//     using Store = ...;  // a domain::SnsStore (the SNS half of the destinations store)
//     std::unique_ptr<Store> open();  // a store over a fresh, empty database
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Name, DestinationsStoreContract, ::testing::Types<Backend>);
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

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

REGISTER_TYPED_TEST_SUITE_P(DestinationsStoreContract, TopicsAndSubscriptions,
                            TopicsAndSubscriptionsListInCreationOrder);

}  // namespace mailtally::storage::contract
