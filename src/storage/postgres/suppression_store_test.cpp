// PgSuppressionStore: the SuppressionStore contract (storage/suppression_store_contract.hpp, the
// same cases as SqliteSuppressionStore) on a fresh database per test, plus case-insensitive
// addresses, put_suppressed_in inside a caller's transaction, and two nodes.
#include "storage/postgres/suppression_store.hpp"

#include <gtest/gtest.h>

#include "pg/test_database.hpp"
#include "storage/suppression_store_contract.hpp"

namespace mailtally::storage {
namespace {

// The contract's backend: one database per test.
class PgBackend {
 public:
  using Store = PgSuppressionStore;
  std::unique_ptr<Store> open() { return PgSuppressionStore::open(pool_); }

 private:
  pg::testing::TestDatabase db_;
  pg::Pool pool_{db_.url()};
};

}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(PgSuppressionStore, SuppressionStoreContract,
                               ::testing::Types<PgBackend>);
}  // namespace contract

namespace {

TEST(PgSuppressionStore, AddressesAreCaseInsensitiveAndAPutReplaces) {
  pg::testing::TestDatabase db;
  pg::Pool pool(db.url());
  auto sup = PgSuppressionStore::open(pool);
  sup->put_suppressed({"A@Example.com", "BOUNCE", 12, "m1", "f1"});
  auto listed = sup->get_suppressed("a@EXAMPLE.com");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->email_address, "A@Example.com");
  EXPECT_EQ(listed->reason, "BOUNCE");
  EXPECT_EQ(listed->last_update, 12);
  EXPECT_EQ(listed->message_id, "m1");
  EXPECT_EQ(listed->feedback_id, "f1");
  sup->put_suppressed({"a@example.COM", "COMPLAINT", 13.25, "", ""});
  listed = sup->get_suppressed("A@EXAMPLE.COM");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->email_address, "a@example.COM");
  EXPECT_EQ(listed->reason, "COMPLAINT");
  EXPECT_EQ(listed->last_update, 13.25);
  EXPECT_EQ(listed->message_id, "");
  EXPECT_EQ(sup->list_suppressed({}).size(), 1u);
  // Ordered by the lower-cased address, in byte order.
  sup->put_suppressed({"Z@example.com", "BOUNCE", 1, "", ""});
  sup->put_suppressed({"_@example.com", "BOUNCE", 1, "", ""});
  auto all = sup->list_suppressed({});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].email_address, "_@example.com");
  EXPECT_EQ(all[1].email_address, "a@example.COM");
  EXPECT_EQ(all[2].email_address, "Z@example.com");
  EXPECT_THROW(sup->put_suppressed({"x@example.com", "OTHER", 1, "", ""}), std::runtime_error);
}

TEST(PgSuppressionStore, PutInsideACallersTransactionCommitsWithIt) {
  pg::testing::TestDatabase db;
  pg::Pool pool(db.url());
  auto sup = PgSuppressionStore::open(pool);
  {
    auto conn = pool.acquire();
    pg::Transaction tx(*conn);
    pgsql::put_suppressed_in(*conn, {"gone@example.com", "BOUNCE", 1, "m", "f"});
  }  // rolled back
  EXPECT_FALSE(sup->get_suppressed("gone@example.com"));
  pool.with_transaction([](pg::Connection& conn) {
    pgsql::put_suppressed_in(conn, {"kept@example.com", "BOUNCE", 1, "m", "f"});
  });
  EXPECT_TRUE(sup->get_suppressed("kept@example.com"));
}

TEST(PgSuppressionStore, AChangeOnOneNodeIsSeenByTheOther) {
  pg::testing::TestDatabase db;
  pg::Pool pool_a(db.url()), pool_b(db.url());
  auto a = PgSuppressionStore::open(pool_a);
  auto b = PgSuppressionStore::open(pool_b);
  EXPECT_TRUE(b->account_suppressed_reasons().empty());
  EXPECT_FALSE(b->get_suppressed("x@example.com"));
  a->set_account_suppressed_reasons({"COMPLAINT"});
  a->put_suppressed({"x@example.com", "BOUNCE", 5, "", ""});
  EXPECT_EQ(b->account_suppressed_reasons(), std::vector<std::string>{"COMPLAINT"});
  EXPECT_TRUE(b->get_suppressed("X@example.com"));
  EXPECT_TRUE(b->delete_suppressed("x@example.com"));
  EXPECT_FALSE(a->get_suppressed("x@example.com"));
}

}  // namespace
}  // namespace mailtally::storage
