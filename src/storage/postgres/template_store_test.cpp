// PgTemplateStore: the TemplateStore contract (storage/template_store_contract.hpp, the same
// cases as SqliteTemplateStore) on a fresh database per test, plus two nodes (two pools) creating
// against the kMaxTemplates limit at once.
#include "storage/postgres/template_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "pg/test_database.hpp"
#include "storage/template_store_contract.hpp"

namespace mailtally::storage {
namespace {

using contract::tpl;

// The contract's backend: one database per test; every open() is a new node (its own pool).
class PgBackend {
 public:
  using Store = PgTemplateStore;
  std::unique_ptr<Store> open() {
    pools_.push_back(std::make_unique<pg::Pool>(db_.url()));
    return PgTemplateStore::open(*pools_.back());
  }

 private:
  pg::testing::TestDatabase db_;
  std::vector<std::unique_ptr<pg::Pool>> pools_;  // outlive the stores (the fixture's members)
};

}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(PgTemplateStore, TemplateStoreContract, ::testing::Types<PgBackend>);
}  // namespace contract

namespace {

TEST(PgTemplateStore, TwoNodesCreatingAtOnceRespectTheLimit) {
  pg::testing::TestDatabase db;
  pg::Pool pool_a(db.url()), pool_b(db.url());
  auto a = PgTemplateStore::open(pool_a);
  auto b = PgTemplateStore::open(pool_b);
  // Fill up to 5 below the limit directly.
  pg::Connection(db.url()).run(
      "INSERT INTO email_templates (name, created_at) "
      "SELECT 'pre-' || i, 1 FROM generate_series(1, $1) AS i",
      {static_cast<std::int64_t>(domain::kMaxTemplates - 5)});
  std::atomic<int> done{0}, limited{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    PgTemplateStore& store = t % 2 == 0 ? *a : *b;
    threads.emplace_back([&, t] {
      for (int i = 0; i < 6; ++i) {
        auto r = store.create(tpl("new-" + std::to_string(t) + "-" + std::to_string(i), 5));
        if (r == domain::TemplateWrite::Done) {
          ++done;
        } else {
          EXPECT_EQ(r, domain::TemplateWrite::LimitExceeded);
          ++limited;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(done.load(), 5);
  EXPECT_EQ(limited.load(), 19);
  EXPECT_EQ(a->create(tpl("pre-1", 1)), domain::TemplateWrite::LimitExceeded);  // limit first
  EXPECT_EQ(b->remove("pre-1"), domain::TemplateWrite::Done);
  EXPECT_EQ(a->create(tpl("pre-2", 1)), domain::TemplateWrite::AlreadyExists);
  EXPECT_EQ(a->create(tpl("last", 1)), domain::TemplateWrite::Done);
}

}  // namespace
}  // namespace mailtally::storage
