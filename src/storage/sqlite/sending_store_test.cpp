// SqliteSendingStore: migration, one-transaction enqueue, filters, exactly-once completion,
// cursors that never move backward; and SqliteSuppressionStore: the SuppressionStore contract
// (storage/suppression_store_contract.hpp, the same cases as PgSuppressionStore).
#include "storage/sqlite/sending_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "storage/intake/log.hpp"
#include "storage/intake/record.hpp"
#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/suppression_store.hpp"
#include "storage/suppression_store_contract.hpp"

namespace mailtally::storage {
namespace {

struct TempDb {
  std::string dir, path;
  TempDb() {
    char tmpl[] = "/tmp/mt-sstore-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir + "/mailtally.db";
  }
  ~TempDb() { std::filesystem::remove_all(dir); }
};

domain::QueuedMessage message(std::string id, std::string set) {
  domain::QueuedMessage m;
  m.message_id = std::move(id);
  m.configuration_set = std::move(set);
  m.recipients = {"a@example.com", "b@example.com"};
  m.mail = "{}";
  m.raw = std::string("raw\0bytes", 9);
  m.created_at = 10;
  return m;
}

TEST(SendingStore, AppendMessageEventsUsesTheStoredMailAndSet) {
  TempDb db;
  auto s = SqliteSendingStore::open(db.path);
  auto m = message("m1", "Set1");
  m.mail = R"({"messageId":"m1"})";
  s->enqueue(m, {{"Send", "{}"}}, 10);
  auto make = [](std::string_view mail, double created_at) {
    EXPECT_EQ(mail, R"({"messageId":"m1"})");
    EXPECT_EQ(created_at, 10);
    return std::vector<domain::NewEvent>{{"Click", "{\"mail\":" + std::string(mail) + "}"}};
  };
  EXPECT_TRUE(s->append_message_events("m1", make, 20));
  EXPECT_FALSE(s->append_message_events("nope", make, 20));
  domain::EventFilter f;
  f.event_type = "Click";
  auto e = s->events(f);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].configuration_set, "Set1");
  EXPECT_EQ(e[0].record, R"({"mail":{"messageId":"m1"}})");
  EXPECT_EQ(e[0].created_at, 20);
}

TEST(SendingStore, ServerSecretIsCreatedOnceAndShared) {
  TempDb db;
  std::string first(32, '\x01');
  first[5] = '\xff';
  first[6] = '\0';
  {
    auto s = SqliteSendingStore::open(db.path);
    EXPECT_EQ(s->server_secret("tracking", first), first);
    EXPECT_EQ(s->server_secret("tracking", std::string(32, 'x')), first);
  }
  auto other = SqliteSendingStore::open(db.path);  // a restart, or another node
  EXPECT_EQ(other->server_secret("tracking", std::string(32, 'y')), first);
  EXPECT_EQ(other->server_secret("other", "ab"), "ab");
  EXPECT_THROW(other->server_secret("Bad'name", "x"), std::invalid_argument);
}

TEST(SendingStore, EnqueueCompleteAndRead) {
  TempDb db;
  auto s = SqliteSendingStore::open(db.path);
  auto id1 = s->enqueue(message("m1", "Set1"), {{"Send", R"({"eventType":"Send"})"}}, 10);
  auto id2 = s->enqueue(message("m2", ""), {{"Send", R"({"eventType":"Send"})"}}, 11);
  EXPECT_LT(id1, id2);
  auto q = s->queued(0, 10, 0, 1);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].recipients.size(), 2u);
  EXPECT_EQ(q[0].raw.size(), 9u);
  EXPECT_EQ(s->queued(0, 10, 1, 2).size() + s->queued(0, 10, 0, 2).size(), 2u);

  domain::SendingStore::Completion c{id1, "m1", "Set1", {{"Delivery", "{}"}}, {"a@example.com"},
                                     {},  {}};
  EXPECT_EQ(s->complete({c, c}, 12), 1u);  // the second copy is skipped
  EXPECT_EQ(s->queued(0, 10, 0, 1).size(), 1u);

  domain::EventFilter f;
  EXPECT_EQ(s->events(f).size(), 3u);
  f.configuration_set = "Set1";
  EXPECT_EQ(s->events(f).size(), 2u);
  f.event_type = "Delivery";
  auto d = s->events(f);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].message_id, "m1");
  f = {};
  f.after = d[0].seq;
  EXPECT_TRUE(s->events(f).empty());

  EXPECT_EQ(s->mailbox(std::string("A@example.com"), 10).size(), 1u);
  EXPECT_TRUE(s->mailbox(std::string("b@example.com"), 10).empty());
  auto one = s->mailbox_message("m1");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->raw, std::string("raw\0bytes", 9));
  EXPECT_FALSE(s->mailbox_message("m2"));
}

TEST(SendingStore, CursorsOnlyMoveForward) {
  TempDb db;
  auto s = SqliteSendingStore::open(db.path);
  EXPECT_FALSE(s->cursor("Set1", "cw"));
  s->advance_cursor("Set1", "cw", 5);
  s->advance_cursor("Set1", "cw", 3);
  EXPECT_EQ(s->cursor("Set1", "cw"), 5);
}

TEST(SendingStore, MigratesAnExistingConfigurationDatabase) {
  TempDb db;
  { auto config = SqliteStore::open(db.path); }
  auto s = SqliteSendingStore::open(db.path);
  auto config = SqliteStore::open(db.path);  // both adapters share the file
  s->enqueue(message("m1", ""), {}, 1);
  EXPECT_EQ(s->queued(0, 10, 0, 1).size(), 1u);
  EXPECT_GE(sqlite::latest_schema_version(), 3);
}

TEST(SendingStore, DeferralKeepsRemainingRecipientsUntilDue) {
  TempDb db;
  auto s = SqliteSendingStore::open(db.path);
  auto sup = SqliteSuppressionStore::open(db.path);
  auto id = s->enqueue(message("m1", ""), {}, 1);
  domain::SendingStore::Completion c{id, "m1", "", {{"DeliveryDelay", "{}"}}, {}, {}, {}};
  c.defer = domain::SendingStore::Completion::Deferral{{"b@example.com"}, 50, 1};
  c.suppress.push_back({"A@Example.com", "BOUNCE", 12, "m1", "f1"});
  EXPECT_EQ(s->complete({c}, 12), 1u);
  EXPECT_TRUE(s->queued(0, 10, 0, 1, 49).empty());  // not due yet
  auto due = s->queued(0, 10, 0, 1, 50);
  ASSERT_EQ(due.size(), 1u);
  ASSERT_TRUE(due[0].remaining);
  EXPECT_EQ(*due[0].remaining, std::vector<std::string>{"b@example.com"});
  EXPECT_EQ(due[0].attempts, 1);
  EXPECT_EQ(due[0].recipients.size(), 2u);  // the original envelope is kept
  auto listed = sup->get_suppressed("a@EXAMPLE.com");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->email_address, "A@Example.com");
  EXPECT_EQ(listed->message_id, "m1");
  domain::SendingStore::Completion done{id, "m1", "", {}, {}, {}, {}};
  EXPECT_EQ(s->complete({done}, 60), 1u);
  EXPECT_TRUE(s->queued(0, 10, 0, 1).empty());
}

// The suppression contract's backend: a private file per test.
class SqliteSuppressionBackend {
 public:
  using Store = SqliteSuppressionStore;
  std::unique_ptr<Store> open() { return SqliteSuppressionStore::open(db_.path); }

 private:
  TempDb db_;
};

}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(SqliteSuppressionStore, SuppressionStoreContract,
                               ::testing::Types<SqliteSuppressionBackend>);
}  // namespace contract

namespace {

TEST(SendingStore, ConcurrentAsyncEnqueuesShareTransactionsAndAllCommit) {
  TempDb db;
  auto s = SqliteSendingStore::open(db.path);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::atomic<int> committed{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto id = "m" + std::to_string(t) + "-" + std::to_string(i);
        s->enqueue_async(message(id, "Set"), {{"Send", "{}"}}, 10,
                         [&](std::int64_t, std::exception_ptr error) {
                           (error ? failed : committed).fetch_add(1);
                         });
      }
    });
  }
  for (auto& t : threads) t.join();
  // A synchronous enqueue queues behind every async one, so all are done when it returns.
  s->enqueue(message("last", "Set"), {{"Send", "{}"}}, 10);
  EXPECT_EQ(committed.load(), kThreads * kPerThread);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(s->queued(0, 10000, 0, 1).size(), std::size_t{kThreads * kPerThread + 1});
  domain::EventFilter f;
  f.limit = 10000;
  EXPECT_EQ(s->events(f).size(), std::size_t{kThreads * kPerThread + 1});
  // Group commit: far fewer intake writes than messages.
  EXPECT_LT(s->enqueue_batches(), std::uint64_t{kThreads * kPerThread});
}

TEST(SendingStore, ADuplicateMessageIdIsIndexedOnceAndDoesNotStallTheLog) {
  TempDb db;
  auto s = SqliteSendingStore::open(db.path);
  const auto first = s->enqueue(message("dup", ""), {{"Send", "{}"}}, 10);
  std::vector<std::promise<bool>> results(3);
  const char* ids[] = {"a", "dup", "b"};  // "dup" violates the unique message id
  for (int i = 0; i < 3; ++i) {
    s->enqueue_async(message(ids[i], ""), {{"Send", "{}"}}, 10,
                     [&results, i](std::int64_t, std::exception_ptr error) {
                       results[static_cast<std::size_t>(i)].set_value(error == nullptr);
                     });
  }
  for (auto& r : results) EXPECT_TRUE(r.get_future().get());  // all durable in the intake log
  s->wait_readable();
  auto queued = s->queued(0, 100, 0, 1);
  ASSERT_EQ(queued.size(), 3u);  // dup (first), a, b: the second "dup" was skipped whole
  EXPECT_EQ(queued[0].id, first);
  domain::EventFilter f;
  EXPECT_EQ(s->events(f).size(), 3u);
  EXPECT_GT(s->enqueue(message("after", ""), {}, 10), queued[2].id);  // the log goes on
  EXPECT_EQ(s->queued(0, 100, 0, 1).size(), 4u);
}

TEST(SendingStore, AcknowledgedButUnindexedEntriesAreIndexedOnceAtOpen) {
  TempDb db;
  { auto s = SqliteSendingStore::open(db.path); }  // creates the database and its intake log
  {
    // What a process killed between acknowledging and indexing leaves behind.
    auto log = intake::Log::open(db.dir + "/intake", false, 0);
    std::vector<std::string> entries(2);
    intake::encode(intake::Entry{message("k1", "Set"), {{"Send", "{\"n\":1}"}}, 11}, entries[0]);
    intake::encode(intake::Entry{message("k2", "Set"), {{"Send", "{\"n\":2}"}}, 12}, entries[1]);
    log->append(entries);
  }
  for (int round = 0; round < 2; ++round) {  // and a second open indexes nothing again
    auto s = SqliteSendingStore::open(db.path);
    auto queued = s->queued(0, 100, 0, 1);
    ASSERT_EQ(queued.size(), 2u) << round;
    EXPECT_EQ(queued[0].message_id, "k1");
    EXPECT_EQ(queued[1].raw, std::string("raw\0bytes", 9));
    domain::EventFilter f;
    auto events = s->events(f);
    ASSERT_EQ(events.size(), 2u) << round;
    EXPECT_EQ(events[1].record, "{\"n\":2}");
    EXPECT_EQ(events[1].created_at, 12);
  }
}

TEST(SendingStore, ABacklogBoundMakesAcknowledgingWaitForTheIndexerNotFail) {
  TempDb db;
  SqliteOptions o;
  o.intake_backlog_bytes = 1;  // every batch waits until everything before it is indexed
  auto s = SqliteSendingStore::open(db.path, o);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::promise<bool> done;
        s->enqueue_async(
            message("b" + std::to_string(t) + "-" + std::to_string(i), ""), {{"Send", "{}"}}, 10,
            [&done](std::int64_t, std::exception_ptr error) { done.set_value(error == nullptr); });
        if (done.get_future().get()) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
  s->wait_readable();
  EXPECT_EQ(s->queued(0, 1000, 0, 1).size(), 200u);
}

TEST(SendingStore, ASecondOpenOfTheDataDirLeavesTheIntakeLogToTheFirst) {
  TempDb db;
  auto server = SqliteSendingStore::open(db.path);
  server->enqueue(message("s1", ""), {{"Send", "{}"}}, 10);
  {
    // E.g. `mailtally keys create` next to the server (the intake lock is per open file, so a
    // second open in one process stands in for a second process).
    auto other = SqliteSendingStore::open(db.path);
    EXPECT_GT(other->enqueue(message("o1", ""), {{"Send", "{}"}}, 10), 0);
    EXPECT_EQ(other->queued(0, 10, 0, 1).size(), 2u);
  }
  server->enqueue(message("s2", ""), {{"Send", "{}"}}, 10);  // the server's log still works
  EXPECT_EQ(server->queued(0, 10, 0, 1).size(), 3u);
  server.reset();
  auto reopened = SqliteSendingStore::open(db.path);
  EXPECT_EQ(reopened->queued(0, 10, 0, 1).size(), 3u);
}

TEST(SendingStore, TheReadableListenerHearsOfIndexedEnqueues) {
  TempDb db;
  auto s = SqliteSendingStore::open(db.path);
  std::promise<void> heard;
  std::atomic<bool> once{false};
  s->set_readable_listener([&] {
    if (!once.exchange(true)) heard.set_value();
  });
  s->enqueue_async(message("l1", ""), {{"Send", "{}"}}, 10,
                   [](std::int64_t, std::exception_ptr) {});
  EXPECT_EQ(heard.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  s->set_readable_listener({});
  EXPECT_EQ(s->queued(0, 10, 0, 1).size(), 1u);
}

TEST(SendingStore, ClosingTheStoreCommitsEverythingSubmitted) {
  TempDb db;
  std::atomic<int> done{0};
  {
    auto s = SqliteSendingStore::open(db.path);
    for (int i = 0; i < 300; ++i) {
      s->enqueue_async(message("c" + std::to_string(i), ""), {{"Send", "{}"}}, 10,
                       [&](std::int64_t, std::exception_ptr error) {
                         if (!error) done.fetch_add(1);
                       });
    }
  }
  EXPECT_EQ(done.load(), 300);
  auto reopened = SqliteSendingStore::open(db.path);
  EXPECT_EQ(reopened->queued(0, 1000, 0, 1).size(), 300u);
}

}  // namespace
}  // namespace mailtally::storage
