// PgDestinationsStore: the topics-and-subscriptions contract (storage/destinations_store_contract
// .hpp, the same cases as SqliteDestinationsStore) on a fresh database per test, the send
// statistics fold, and two nodes sharing topics and folding at once counting each event once. The
// tables `events` and `event_cursors` belong to the sending component; these tests create them as
// that component does.
#include "storage/postgres/destinations_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pg/test_database.hpp"
#include "storage/destinations_store_contract.hpp"

namespace mailtally::storage {
namespace {

using contract::kTopic;
using contract::subscription;

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

// The contract's backend: one database per test, with the sending component's event tables.
class PgBackend {
 public:
  using Store = PgDestinationsStore;
  PgBackend() { create_events_table(db_.url()); }
  std::unique_ptr<Store> open() { return PgDestinationsStore::open(pool_); }
  void log_send_bounce_delivery() {
    pg::Connection log(db_.url());
    log_event(log, 1, "Send", R"({"mail":{"destination":["a@x","b@x"]}})", 1800.5);
    log_event(log, 2, "Bounce", R"({"bounce":{"bouncedRecipients":[{"emailAddress":"a@x"}]}})",
              2700.0);
    log_event(log, 3, "Delivery", R"({"delivery":{}})", 2700.0);
  }

 private:
  pg::testing::TestDatabase db_;
  pg::Pool pool_{db_.url()};
};

}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(PgDestinationsStore, DestinationsStoreContract,
                               ::testing::Types<PgBackend>);
}  // namespace contract

namespace {

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

// After the contract's StatisticsAreFoldedFromTheEventLogOnce (the same first three events):
TEST(PgDestinationsStore, StatisticsFoldComplaintsRejectsAndOddRecords) {
  pg::testing::TestDatabase db;
  create_events_table(db.url());
  pg::Pool pool(db.url());
  auto s = PgDestinationsStore::open(pool);
  pg::Connection log(db.url());
  log_event(log, 1, "Send", R"({"mail":{"destination":["a@x","b@x"]}})", 1800.5);
  log_event(log, 2, "Bounce", R"({"bounce":{"bouncedRecipients":[{"emailAddress":"a@x"}]}})",
            2700.0);
  log_event(log, 3, "Delivery", R"({"delivery":{}})", 2700.0);
  ASSERT_EQ(s->fold_send_statistics(100), 3u);

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
  auto points = s->send_statistics(1800);
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
