#include "storage/postgres/lease_store.hpp"

#include <gtest/gtest.h>

#include "pg/test_database.hpp"

namespace mailtally::storage {
namespace {

TEST(PgLeaseStore, OneOwnerAtATimeUntilTheLeaseEnds) {
  pg::testing::TestDatabase db;
  pg::Pool pool(db.url());
  auto leases = PgLeaseStore::open(pool);
  EXPECT_TRUE(leases->try_acquire("dispatch", "node-a", 1000, 30));
  EXPECT_FALSE(leases->try_acquire("dispatch", "node-b", 1010, 30));
  EXPECT_TRUE(leases->try_acquire("dispatch", "node-a", 1020, 30));   // renewed to 1050
  EXPECT_FALSE(leases->try_acquire("dispatch", "node-b", 1040, 30));  // still a's
  EXPECT_TRUE(leases->try_acquire("dispatch", "node-b", 1051, 30));   // a's ended
  EXPECT_FALSE(leases->try_acquire("dispatch", "node-a", 1052, 30));
  EXPECT_TRUE(leases->try_acquire("other", "node-a", 1052, 30));  // leases are independent
}

TEST(PgLeaseStore, ReleaseFreesOnlyTheOwnersLease) {
  pg::testing::TestDatabase db;
  pg::Pool pool(db.url());
  auto leases = PgLeaseStore::open(pool);
  ASSERT_TRUE(leases->try_acquire("l", "a", 0, 60));
  leases->release("l", "b");
  EXPECT_FALSE(leases->try_acquire("l", "b", 1, 60));
  leases->release("l", "a");
  EXPECT_TRUE(leases->try_acquire("l", "b", 1, 60));
}

}  // namespace
}  // namespace mailtally::storage
