// SqliteDestinationsStore: the topics-and-subscriptions contract (storage/destinations_store_
// contract.hpp, the same cases as PgDestinationsStore) and the send statistics folded from the
// event log written by the SQLite sending store.
#include "storage/sqlite/destinations_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "storage/destinations_store_contract.hpp"
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

// The contract's backend: a private file per test, its event log written by the SQLite sending
// store as in the app.
class SqliteBackend {
 public:
  using Store = SqliteDestinationsStore;
  std::unique_ptr<Store> open() { return SqliteDestinationsStore::open(db_.path); }
  void log_send_bounce_delivery() {
    auto events = SqliteSendingStore::open(db_.path);
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
  }

 private:
  TempDb db_;
};

}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(SqliteDestinationsStore, DestinationsStoreContract,
                               ::testing::Types<SqliteBackend>);
}  // namespace contract
}  // namespace mailtally::storage
