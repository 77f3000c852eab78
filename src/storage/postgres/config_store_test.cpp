// PgConfigStore: the ConfigStore contract (storage/config_store_contract.hpp, the same cases as
// SqliteStore) on a fresh database per test, plus what only PostgreSQL has: schema versions in
// mailtally_schema, two nodes (two pools, two stores) over one database, a killed writer process.
#include "storage/postgres/config_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "pg/test_database.hpp"
#include "storage/config_store_contract.hpp"

namespace mailtally::storage {
namespace {

using namespace domain;
using contract::expect_same;
using contract::full_set;
using contract::identity;
using contract::plain_set;
using contract::sns_destination;

// The contract's backend: one database per test; open() starts a new pool (a node restart).
class PgBackend {
 public:
  using Store = PgConfigStore;
  static constexpr int kUpdatesPerThread = 25;
  std::unique_ptr<Store> open() {
    pool_.reset();
    pool_ = std::make_unique<pg::Pool>(db_.url());
    return PgConfigStore::open(*pool_);
  }
  std::int64_t count(const std::string& table) {
    return pg::Connection(db_.url()).query("SELECT count(*) FROM " + table).integer(0, 0);
  }
  void corrupt_destinations_and_identity_tags() {
    pg::Connection c(db_.url());
    c.exec("UPDATE event_destinations SET definition = convert_to('{\"enabled\":1}', 'UTF8')");
    c.exec("UPDATE identities SET tags = convert_to('not json', 'UTF8')");
  }

 private:
  pg::testing::TestDatabase db_;
  std::unique_ptr<pg::Pool> pool_;
};

}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(PgConfigStore, ConfigStoreContract, ::testing::Types<PgBackend>);
}  // namespace contract

namespace {

// One node: its own pool and store over the test database.
struct Node {
  explicit Node(const std::string& url) : pool(url), store(PgConfigStore::open(pool)) {}
  pg::Pool pool;
  std::unique_ptr<PgConfigStore> store;
};

class PgConfigStoreTest : public ::testing::Test {
 protected:
  void exec(const char* sql) { pg::Connection(db_.url()).exec(sql); }
  std::int64_t count(const std::string& table) {
    return pg::Connection(db_.url()).query("SELECT count(*) FROM " + table).integer(0, 0);
  }

  pg::testing::TestDatabase db_;
  std::unique_ptr<Node> node_ = std::make_unique<Node>(db_.url());
  PgConfigStore* store_ = node_->store.get();
};

// ---- schema ----

TEST_F(PgConfigStoreTest, RefusesANewerSchema) {
  exec("UPDATE mailtally_schema SET version = 999 WHERE component = 'config'");
  try {
    pg::Pool pool(db_.url());
    PgConfigStore::open(pool);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("schema version 999"), std::string::npos) << what;
    EXPECT_NE(what.find("newer"), std::string::npos) << what;
  }
}

// Creates c<tag>-0 .. c<tag>-(n-1) with limit `max` on `store`, counting outcomes.
void create_many(PgConfigStore& store, const std::string& tag, int n, std::size_t max,
                 std::atomic<int>& created, std::atomic<int>& refused) {
  for (int i = 0; i < n; ++i) {
    auto r = store.create_configuration_set(plain_set("c" + tag + "-" + std::to_string(i)), max);
    if (r) {
      ++created;
    } else {
      EXPECT_EQ(r.error().kind, ErrorKind::LimitExceeded);
      ++refused;
    }
  }
}

TEST_F(PgConfigStoreTest, ConcurrentCreatesRespectTheLimit) {
  std::atomic<int> created{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back(
        [&, t] { create_many(*store_, std::to_string(t), 25, 30, created, refused); });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), 30);
  EXPECT_EQ(refused.load(), 70);
  EXPECT_EQ(store_->list_configuration_sets("", 1000).size(), 30u);
}

// ---- two nodes on one database ----

TEST_F(PgConfigStoreTest, TwoNodesCreatingAtOnceRespectTheLimit) {
  Node other(db_.url());
  std::atomic<int> created{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    PgConfigStore& store = t % 2 == 0 ? *store_ : *other.store;
    threads.emplace_back(
        [&, t] { create_many(store, std::to_string(t), 20, 25, created, refused); });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), 25);
  EXPECT_EQ(refused.load(), 55);
  EXPECT_EQ(count("configuration_sets"), 25);
  // Same name from both nodes at once: exactly one wins.
  std::atomic<int> wins{0}, exists{0};
  std::thread a(
      [&] { (store_->create_configuration_set(plain_set("same"), 100) ? wins : exists)++; });
  std::thread b(
      [&] { (other.store->create_configuration_set(plain_set("same"), 100) ? wins : exists)++; });
  a.join();
  b.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(exists.load(), 1);
}

TEST_F(PgConfigStoreTest, TwoNodesUpdatingOneSetLoseNothing) {
  Node other(db_.url());
  ASSERT_TRUE(store_->create_configuration_set(plain_set("shared"), 10));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    PgConfigStore& store = t % 2 == 0 ? *store_ : *other.store;
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 20; ++i) {
        std::string name = "n" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(store.update_configuration_set("shared", [&](ConfigurationSetRecord& rec) {
          rec.destinations.push_back(sns_destination(name));
          return Status(base::Ok{});
        }));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(store_->get_configuration_set("shared")->destinations.size(), 80u);
  EXPECT_EQ(other.store->get_configuration_set("shared")->destinations.size(), 80u);
}

TEST_F(PgConfigStoreTest, AChangeOnOneNodeIsSeenByTheOtherAtOnce) {
  Node other(db_.url());
  PgConfigStore& b = *other.store;
  // Reads on b first, so any cache it had would now hold the old answers.
  EXPECT_FALSE(b.get_configuration_set("s"));
  EXPECT_FALSE(b.get_identity("a@example.com"));
  EXPECT_FALSE(b.get_access_key("AKIA1"));
  EXPECT_TRUE(b.list_configuration_sets("", 10).empty());

  ASSERT_TRUE(store_->create_configuration_set(full_set("s"), 10));
  store_->put_identity(identity("a@example.com", IdentityType::EmailAddress));
  store_->put_access_key({"AKIA1", "secret", "n", 1});
  expect_same(*b.get_configuration_set("s"), full_set("s"));
  EXPECT_EQ(b.get_identity("a@example.com"), identity("a@example.com", IdentityType::EmailAddress));
  EXPECT_EQ(b.get_access_key("AKIA1")->secret_access_key, "secret");
  EXPECT_EQ(b.list_configuration_sets("", 10), std::vector<std::string>{"s"});

  ASSERT_TRUE(store_->update_configuration_set("s", [](ConfigurationSetRecord& r) -> Status {
    r.set.sending_enabled = true;
    r.destinations.pop_back();
    return base::Ok{};
  }));
  Identity verified = identity("a@example.com", IdentityType::EmailAddress);
  verified.status = VerificationStatus::Failed;
  store_->put_identity(verified);
  EXPECT_TRUE(b.get_configuration_set("s")->set.sending_enabled);
  EXPECT_EQ(b.get_configuration_set("s")->destinations.size(), 5u);
  EXPECT_EQ(b.get_identity("a@example.com")->status, VerificationStatus::Failed);

  EXPECT_TRUE(store_->delete_configuration_set("s"));
  EXPECT_TRUE(store_->delete_identity("a@example.com"));
  EXPECT_TRUE(store_->delete_access_key("AKIA1"));
  EXPECT_FALSE(b.get_configuration_set("s"));
  EXPECT_FALSE(b.get_identity("a@example.com"));
  EXPECT_FALSE(b.get_access_key("AKIA1"));
  EXPECT_FALSE(b.delete_configuration_set("s"));
}

// ---- durability ----

// A child process writes sets k0, k1, ... through its own pool and reports each index on a pipe
// once the call returned; it is killed with SIGKILL mid-stream. Every reported set is there.
TEST_F(PgConfigStoreTest, SurvivesSigkillRightAfterCallsReturn) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    try {
      pg::Pool pool(db_.url());
      auto store = PgConfigStore::open(pool);
      for (int i = 0;; ++i) {
        if (!store->create_configuration_set(full_set("k" + std::to_string(i)), SIZE_MAX)) {
          ::_exit(2);
        }
        if (::write(fds[1], &i, sizeof i) != sizeof i) ::_exit(3);
      }
    } catch (...) {
      ::_exit(4);
    }
  }
  ::close(fds[1]);
  int last = -1, i = 0;
  while (last + 1 < 100 && ::read(fds[0], &i, sizeof i) == sizeof i) last = i;
  ::kill(child, SIGKILL);
  while (::read(fds[0], &i, sizeof i) == sizeof i) last = i;  // reported before it died
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  ASSERT_GE(last + 1, 100);
  for (int k = 0; k <= last; ++k) {
    auto got = store_->get_configuration_set("k" + std::to_string(k));
    ASSERT_TRUE(got) << "lost k" << k << " of " << last + 1;
    expect_same(*got, full_set("k" + std::to_string(k)));
  }
}

}  // namespace
}  // namespace mailtally::storage

namespace mailtally::storage {
namespace {

// Rough latency of the send path's reads over a loopback connection (informational: prints,
// asserts only correctness). Every read is a round trip: the store has no cache.
TEST(PgConfigStoreTiming, HotPathReads) {
  pg::testing::TestDatabase db;
  pg::Pool pool(db.url());
  auto store = PgConfigStore::open(pool);
  for (int i = 0; i < 200; ++i) {
    ConfigurationSetRecord r = plain_set("set-" + std::to_string(10000 + i));
    r.destinations = {sns_destination("a"), sns_destination("b")};
    ASSERT_TRUE(store->create_configuration_set(r, 10000));
    store->put_identity(
        identity("u" + std::to_string(i) + "@example.com", IdentityType::EmailAddress));
  }
  using Clock = std::chrono::steady_clock;
  constexpr int kIterations = 2000;
  auto t0 = Clock::now();
  std::size_t found = 0;
  for (int i = 0; i < kIterations; ++i) {
    found += store->get_configuration_set("set-" + std::to_string(10000 + i % 200)) ? 1 : 0;
  }
  auto t1 = Clock::now();
  for (int i = 0; i < kIterations; ++i) {
    found += store->get_identity("u" + std::to_string(i % 200) + "@example.com") ? 1 : 0;
  }
  auto t2 = Clock::now();
  EXPECT_EQ(found, std::size_t{2 * kIterations});
  auto us = [](auto d) {
    return std::chrono::duration<double, std::micro>(d).count() / kIterations;
  };
  std::printf("get_configuration_set (2 destinations) %.1f us, get_identity %.1f us\n", us(t1 - t0),
              us(t2 - t1));
}

}  // namespace
}  // namespace mailtally::storage
