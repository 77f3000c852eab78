#include <gtest/gtest.h>

#include <thread>

#include "pg/pool.hpp"
#include "pg/test_database.hpp"

namespace mailtally::pg {
namespace {

TEST(PgConnection, ParametersAndResultsRoundTrip) {
  testing::TestDatabase db;
  Connection conn(db.url());
  std::string bytes("a\0b\xff", 4);
  auto r =
      conn.query("SELECT $1::text, $2::bigint, $3::float8, $4::boolean, $5::bytea, $6::text",
                 {std::string_view("héllo"), std::int64_t{-42}, 0.1, true, Bytes{bytes}, nullptr});
  ASSERT_EQ(r.rows(), 1);
  EXPECT_EQ(r.str(0, 0), "héllo");
  EXPECT_EQ(r.integer(0, 1), -42);
  EXPECT_DOUBLE_EQ(r.real(0, 2), 0.1);
  EXPECT_TRUE(r.boolean(0, 3));
  EXPECT_EQ(r.bytea(0, 4), bytes);
  EXPECT_TRUE(r.is_null(0, 5));
  EXPECT_FALSE(r.opt_str(0, 5).has_value());
}

TEST(PgConnection, ErrorsCarrySqlstate) {
  testing::TestDatabase db;
  Connection conn(db.url());
  conn.exec("CREATE TABLE t (k TEXT PRIMARY KEY)");
  conn.run("INSERT INTO t VALUES ($1)", {std::string_view("a")});
  try {
    conn.run("INSERT INTO t VALUES ($1)", {std::string_view("a")});
    FAIL() << "duplicate key accepted";
  } catch (const Error& e) {
    EXPECT_TRUE(e.unique_violation()) << e.what();
  }
  EXPECT_THROW(Connection("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"), Error);
}

TEST(PgTransaction, RollsBackUnlessCommitted) {
  testing::TestDatabase db;
  Pool pool(db.url());
  pool.with_connection([](Connection& c) { c.exec("CREATE TABLE t (v INTEGER)"); });
  {
    auto conn = pool.acquire();
    Transaction tx(*conn);
    conn->run("INSERT INTO t VALUES (1)");
  }
  pool.with_transaction([](Connection& c) { c.run("INSERT INTO t VALUES (2)"); });
  auto n = pool.with_connection(
      [](Connection& c) { return c.query("SELECT coalesce(sum(v), 0) FROM t").integer(0, 0); });
  EXPECT_EQ(n, 2);
}

TEST(PgPool, BoundedAndWaitsForAReturnedConnection) {
  testing::TestDatabase db;
  Pool pool(db.url(), PoolOptions{2, std::chrono::milliseconds(3000)});
  auto a = pool.acquire();
  auto b = pool.acquire();
  EXPECT_EQ(pool.open_connections(), 2u);
  std::thread giver([lease = std::move(a)]() mutable {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto drop = std::move(lease);
  });
  auto c = pool.acquire();  // waits for the one the thread gives back
  EXPECT_EQ(pool.open_connections(), 2u);
  giver.join();
}

TEST(PgPool, GivesUpAfterTheWaitTime) {
  testing::TestDatabase db;
  Pool pool(db.url(), PoolOptions{1, std::chrono::milliseconds(100)});
  auto a = pool.acquire();
  EXPECT_THROW(pool.acquire(), Error);
}

TEST(PgMigrate, RunsEachStepOnceAndRefusesNewerSchemas) {
  testing::TestDatabase db;
  Pool pool(db.url());
  std::vector<const char*> steps = {"CREATE TABLE a (v INTEGER)", "CREATE TABLE b (v INTEGER)"};
  migrate(pool, "test", steps);
  migrate(pool, "test", steps);  // nothing to do; would fail if a step ran again
  std::vector<const char*> older = {"CREATE TABLE a (v INTEGER)"};
  EXPECT_THROW(migrate(pool, "test", older), Error);
  // Components are independent.
  migrate(pool, "other", older = {"CREATE TABLE c (v INTEGER)"});
}

TEST(PgMigrate, ConcurrentNodesMigrateOnce) {
  testing::TestDatabase db;
  Pool pool1(db.url()), pool2(db.url());
  std::vector<const char*> steps = {"CREATE TABLE a (v INTEGER)"};
  std::thread t([&] { migrate(pool1, "race", steps); });
  migrate(pool2, "race", steps);
  t.join();
  auto v = pool1.with_connection([](Connection& c) {
    return c.query("SELECT version FROM mailtally_schema WHERE component = 'race'").integer(0, 0);
  });
  EXPECT_EQ(v, 1);
}

}  // namespace
}  // namespace mailtally::pg
