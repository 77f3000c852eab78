// PgDestinationsStore: the contract tests of SqliteDestinationsStore (destinations_store_test.cpp)
// ported to PostgreSQL, plus folds on two nodes at once counting each event once. The tables
// `events` and `event_cursors` belong to the sending component; these tests create them as that
// component does.
#include "storage/postgres/destinations_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pg/test_database.hpp"

namespace mailtally::storage {
namespace {

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

void create_events_table(const std::string& url) {
  pg::Connection(url).exec(
      "CREATE TABLE events (seq BIGINT PRIMARY KEY, message_id TEXT NOT NULL, "
      "configuration_set TEXT NOT NULL, event_type TEXT NOT NULL, record TEXT NOT NULL, "
      "created_at DOUBLE PRECISION NOT NULL);"
      "CREATE TABLE event_cursors (configuration_set TEXT NOT NULL, destination TEXT NOT NULL, "
      "last_seq BIGINT NOT NULL, PRIMARY KEY (configuration_set, destination));");
}

void log_event(pg::Connection& conn, std::int64_t seq, std::string_view type,
               std::string_view record, double at) {
  conn.run(
      "INSERT INTO events (seq, message_id, configuration_set, event_type, record, created_at) "
      "VALUES ($1, 'm', '', $2, $3, $4)",
      {seq, type, record, at});
}

TEST(PgDestinationsStore, TopicsAndSubscriptions) {
  pg::testing::TestDatabase db;
  pg::Pool pool(db.url());
  auto s = PgDestinationsStore::open(pool);
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

TEST(PgDestinationsStore, TopicsAndSubscriptionsListInCreationOrder) {
  pg::testing::TestDatabase db;
  pg::Pool pool(db.url());
  auto s = PgDestinationsStore::open(pool);
  s->create_topic({"arn:b", "b", "", 2});
  s->create_topic({"arn:c", "c", "", 1});
  s->create_topic({"arn:a", "a", "", 2});
  auto topics = s->list_topics();
  ASSERT_EQ(topics.size(), 3u);
  EXPECT_EQ(topics[0].arn, "arn:c");
  EXPECT_EQ(topics[1].arn, "arn:a");
  EXPECT_EQ(topics[2].arn, "arn:b");
}

TEST(PgDestinationsStore, TwoNodesShareTopicsAndSubscriptions) {
  pg::testing::TestDatabase db;
  pg::Pool pool_a(db.url()), pool_b(db.url());
  auto a = PgDestinationsStore::open(pool_a);
  auto b = PgDestinationsStore::open(pool_b);
  // CreateTopic and Subscribe at once on both nodes: one row each, both told the same.
  domain::SnsTopic ta, tb;
  std::thread x([&] { ta = a->create_topic({std::string(kTopic), "t", "from-a", 1}); });
  std::thread y([&] { tb = b->create_topic({std::string(kTopic), "t", "from-b", 1}); });
  x.join();
  y.join();
  EXPECT_EQ(ta.display_name, tb.display_name);
  domain::SnsSubscription sa, sb;
  std::thread p([&] { sa = a->subscribe(subscription("arn:sub-a", "http://h/1")); });
  std::thread q([&] { sb = b->subscribe(subscription("arn:sub-b", "http://h/1")); });
  p.join();
  q.join();
  EXPECT_EQ(sa.arn, sb.arn);
  EXPECT_EQ(b->subscriptions(kTopic).size(), 1u);
  ASSERT_TRUE(b->confirm(kTopic, sa.token));
  EXPECT_TRUE(a->subscriptions("")[0].confirmed);
  EXPECT_TRUE(a->delete_topic(kTopic));
  EXPECT_TRUE(b->list_topics().empty());
}

TEST(PgDestinationsStore, StatisticsAreFoldedFromTheEventLogOnce) {
  pg::testing::TestDatabase db;
  create_events_table(db.url());
  pg::Pool pool(db.url());
  auto s = PgDestinationsStore::open(pool);
  pg::Connection log(db.url());
  log_event(log, 1, "Send", R"({"mail":{"destination":["a@x","b@x"]}})", 1800.5);
  log_event(log, 2, "Bounce", R"({"bounce":{"bouncedRecipients":[{"emailAddress":"a@x"}]}})",
            2700.0);
  log_event(log, 3, "Delivery", R"({"delivery":{}})", 2700.0);
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

  // Complaints and rejects; a later fold adds to an interval; a path that is not an array or
  // is missing counts 0; gaps in seq (rolled-back inserts) are fine; a NUL escape is fine.
  log_event(log, 10, "Complaint",
            R"({"complaint":{"complainedRecipients":[{"emailAddress":"a@x"},{}]}})", 1801);
  log_event(log, 11, "Reject", R"({"mail":{"destination":["a@x"],"s":"\u0000"}})", 1802);
  log_event(log, 12, "Send", R"({"mail":{"destination":"not-an-array"}})", 1803);
  log_event(log, 13, "Bounce", R"({})", 1804);
  log_event(log, 14, "Send", R"({"mail":{"destination":["c@x"]}})", 1899.99);
  log_event(log, 15, "Reject", R"({"mail":{"destination":["\\u0000"]}})", 1805);
  EXPECT_EQ(s->fold_send_statistics(0), 0u);
  EXPECT_EQ(s->fold_send_statistics(SIZE_MAX), 6u);
  points = s->send_statistics(1800);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].bucket, 1800);
  EXPECT_EQ(points[0].delivery_attempts, 3);
  EXPECT_EQ(points[0].bounces, 0);
  EXPECT_EQ(points[0].complaints, 2);
  EXPECT_EQ(points[0].rejects, 2);
}

// copy-to-postgres copies SQLite's event_cursors rows: the fold continues after its copied
// cursor and leaves the other cursors alone.
TEST(PgDestinationsStore, TheFoldContinuesFromACopiedCursor) {
  pg::testing::TestDatabase db;
  create_events_table(db.url());
  pg::Pool pool(db.url());
  auto s = PgDestinationsStore::open(pool);
  pg::Connection log(db.url());
  log.exec(
      "INSERT INTO event_cursors VALUES ('', 'send-statistics', 2), ('set', 'dest', 1), "
      "('', '', 3)");
  for (int seq = 1; seq <= 3; ++seq) {
    log_event(log, seq, "Send", R"({"mail":{"destination":["a@x"]}})", 0);
  }
  EXPECT_EQ(s->fold_send_statistics(100), 1u);
  ASSERT_EQ(s->send_statistics(0).size(), 1u);
  EXPECT_EQ(s->send_statistics(0)[0].delivery_attempts, 1);
  auto cursors = log.query("SELECT destination, last_seq FROM event_cursors ORDER BY 1");
  ASSERT_EQ(cursors.rows(), 3);
  EXPECT_EQ(cursors.integer(0, 1), 3);  // ('', '')
  EXPECT_EQ(cursors.integer(1, 1), 1);  // dest
  EXPECT_EQ(cursors.integer(2, 1), 3);  // send-statistics
}

TEST(PgDestinationsStore, TwoNodesFoldingAtOnceCountEachEventOnce) {
  pg::testing::TestDatabase db;
  create_events_table(db.url());
  pg::Pool pool_a(db.url()), pool_b(db.url());
  auto a = PgDestinationsStore::open(pool_a);
  auto b = PgDestinationsStore::open(pool_b);
  constexpr int kEvents = 3000;
  pg::Connection log(db.url());
  // Events 1..kEvents, three recipients each, spread over four intervals.
  log.run(
      "INSERT INTO events (seq, message_id, configuration_set, event_type, record, created_at) "
      "SELECT i, 'm' || i, '', 'Send', '{\"mail\":{\"destination\":[\"a\",\"b\",\"c\"]}}', "
      "900 * (i % 4) FROM generate_series(1, $1) AS i",
      {std::int64_t{kEvents}});
  std::atomic<std::size_t> folded{0};
  std::atomic<bool> more{true};
  // A writer appends more events while the folds run.
  std::thread writer([&] {
    pg::Connection w(db.url());
    for (int i = 1; i <= 200; ++i) {
      log_event(w, kEvents + i, "Bounce", R"({"bounce":{"bouncedRecipients":[{}]}})", 0);
    }
    more = false;
  });
  std::vector<std::thread> folders;
  for (int t = 0; t < 4; ++t) {
    PgDestinationsStore& store = t % 2 == 0 ? *a : *b;
    folders.emplace_back([&] {
      for (;;) {
        bool writing = more;
        std::size_t n = store.fold_send_statistics(37);
        folded += n;
        if (n == 0 && !writing) break;
      }
    });
  }
  writer.join();
  for (auto& th : folders) th.join();
  EXPECT_EQ(folded.load(), std::size_t{kEvents + 200});
  auto points = b->send_statistics(0);
  ASSERT_EQ(points.size(), 4u);
  std::int64_t attempts = 0, bounces = 0;
  for (const auto& p : points) {
    EXPECT_EQ(p.delivery_attempts, 750 * 3) << p.bucket;
    attempts += p.delivery_attempts;
    bounces += p.bounces;
  }
  EXPECT_EQ(attempts, 3 * kEvents);
  EXPECT_EQ(bounces, 200);
  EXPECT_EQ(points[0].bounces, 200);
}

}  // namespace
}  // namespace mailtally::storage
