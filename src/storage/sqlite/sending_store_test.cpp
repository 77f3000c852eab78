// SqliteSendingStore: migration, one-transaction enqueue, filters, exactly-once completion,
// cursors that never move backward.
#include "storage/sqlite/sending_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "storage/sqlite/schema.hpp"

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

  domain::SendingStore::Completion c{id1, "m1", "Set1", {{"Delivery", "{}"}}, {"a@example.com"}};
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

}  // namespace
}  // namespace mailtally::storage
