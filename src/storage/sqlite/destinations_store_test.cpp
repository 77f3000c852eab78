// SqliteDestinationsStore: SNS topics and subscriptions (idempotent creates, cascade on topic
// deletion, confirmation by token) and the send statistics folded from the event log.
#include "storage/sqlite/destinations_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "storage/sqlite/sending_store.hpp"

namespace mailtally::storage {
namespace {

struct TempDb {
  std::string dir, path;
  TempDb() {
    char tmpl[] = "/tmp/mt-dstore-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir + "/mailtally.db";
  }
  ~TempDb() { std::filesystem::remove_all(dir); }
};

constexpr std::string_view kTopic = "arn:aws:sns:us-east-1:123456789012:t";

domain::SnsSubscription subscription(std::string arn, std::string endpoint) {
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

TEST(DestinationsStore, TopicsAndSubscriptions) {
  TempDb db;
  auto s = SqliteDestinationsStore::open(db.path);
  domain::SnsTopic t{std::string(kTopic), "t", "Shown", 1};
  EXPECT_EQ(s->create_topic(t).display_name, "Shown");
  t.display_name = "other";
  EXPECT_EQ(s->create_topic(t).display_name, "Shown");  // idempotent: the first one stays
  EXPECT_EQ(s->list_topics().size(), 1u);

  auto a = s->subscribe(subscription(std::string(kTopic) + ":a", "http://h/a"));
  EXPECT_EQ(s->subscribe(subscription(std::string(kTopic) + ":other", "http://h/a")).arn, a.arn);
  s->subscribe(subscription(std::string(kTopic) + ":b", "http://h/b"));
  EXPECT_EQ(s->subscriptions(kTopic).size(), 2u);
  EXPECT_EQ(s->subscriptions("").size(), 2u);
  EXPECT_FALSE(s->confirm(kTopic, "wrong"));
  auto confirmed = s->confirm(kTopic, a.token);
  ASSERT_TRUE(confirmed);
  EXPECT_TRUE(confirmed->confirmed);
  EXPECT_TRUE(s->unsubscribe(a.arn));
  EXPECT_FALSE(s->unsubscribe(a.arn));
  EXPECT_TRUE(s->delete_topic(kTopic));
  EXPECT_TRUE(s->subscriptions("").empty());  // cascade
  EXPECT_FALSE(s->get_topic(kTopic));
}

TEST(DestinationsStore, StatisticsAreFoldedFromTheEventLogOnce) {
  TempDb db;
  auto events = SqliteSendingStore::open(db.path);
  auto s = SqliteDestinationsStore::open(db.path);
  domain::QueuedMessage m;
  m.message_id = "m1";
  m.recipients = {"a@x", "b@x"};
  m.mail = "{}";
  m.created_at = 1800;
  events->enqueue(m, {{"Send", R"({"mail":{"destination":["a@x","b@x"]}})"}}, 1800.5);
  domain::SendingStore::Completion c;
  c.id = 1;
  c.message_id = "m1";
  c.events = {{"Bounce", R"({"bounce":{"bouncedRecipients":[{"emailAddress":"a@x"}]}})"},
              {"Delivery", R"({"delivery":{}})"}};
  events->complete({c}, 2700.0);
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

}  // namespace
}  // namespace mailtally::storage
