// SqliteTemplateStore: the TemplateStore contract (storage/template_store_contract.hpp, the same
// cases as PgTemplateStore) over the shared database file, plus a finished enqueue of the sending
// store (a Rendering Failure) that never reaches the delivery queue and a missing file.
#include "storage/sqlite/template_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "storage/sqlite/sending_store.hpp"
#include "storage/template_store_contract.hpp"

namespace mailtally::storage {
namespace {

struct TempDb {
  std::string dir, path;
  TempDb() {
    char tmpl[] = "/tmp/mt-tstore-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir + "/mailtally.db";
  }
  ~TempDb() { std::filesystem::remove_all(dir); }
};

// The contract's backend: a private file per test, created by the sending store as in the app;
// every open() is a new store object over that file.
class SqliteBackend {
 public:
  using Store = SqliteTemplateStore;
  std::unique_ptr<Store> open() { return SqliteTemplateStore::open(db_.path); }

 private:
  TempDb db_;
  std::unique_ptr<SqliteSendingStore> sending_ = SqliteSendingStore::open(db_.path);
};

}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(SqliteTemplateStore, TemplateStoreContract,
                               ::testing::Types<SqliteBackend>);
}  // namespace contract

namespace {

TEST(TemplateStore, FinishedMessagesAreNeverQueued) {
  TempDb db;
  auto s = SqliteSendingStore::open(db.path);
  domain::QueuedMessage m;
  m.message_id = "failed";
  m.recipients = {"a@example.com"};
  m.mail = "{}";
  m.finished = true;
  s->enqueue(m, {{"Rendering Failure", R"({"eventType":"Rendering Failure"})"}}, 5);
  m.message_id = "queued";
  m.finished = false;
  s->enqueue(m, {{"Send", R"({"eventType":"Send"})"}}, 6);
  auto q = s->queued(0, 10, 0, 1);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].message_id, "queued");
  domain::EventFilter f;
  f.message_id = "failed";
  auto ev = s->events(f);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event_type, "Rendering Failure");
}

TEST(TemplateStore, RefusesAMissingFile) {
  EXPECT_THROW(SqliteTemplateStore::open("/nonexistent/dir/x.db"), std::runtime_error);
}

}  // namespace
}  // namespace mailtally::storage
