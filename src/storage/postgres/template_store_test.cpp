// PgTemplateStore: the contract tests of SqliteTemplateStore (template_store_test.cpp) ported to
// PostgreSQL, plus two nodes (two pools) creating against the kMaxTemplates limit at once.
#include "storage/postgres/template_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pg/test_database.hpp"

namespace mailtally::storage {
namespace {

domain::EmailTemplate tpl(std::string name, double created) {
  domain::EmailTemplate t;
  t.name = std::move(name);
  t.subject = "Hi {{n}}";
  t.html = std::string("<p>\0\xff</p>", 9);  // a NUL byte and a byte that is not UTF-8
  t.created_at = created;
  return t;
}

TEST(PgTemplateStore, CrudAndPages) {
  pg::testing::TestDatabase db;
  pg::Pool pool(db.url());
  auto s = PgTemplateStore::open(pool);
  EXPECT_EQ(s->create(tpl("b", 2)), domain::TemplateWrite::Done);
  EXPECT_EQ(s->create(tpl("a", 1)), domain::TemplateWrite::Done);
  EXPECT_EQ(s->create(tpl("c", 3)), domain::TemplateWrite::Done);
  EXPECT_EQ(s->create(tpl("a", 9)), domain::TemplateWrite::AlreadyExists);
  auto a = s->get("a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->subject, "Hi {{n}}");
  EXPECT_FALSE(a->text);
  EXPECT_EQ(a->html, std::string("<p>\0\xff</p>", 9));
  EXPECT_EQ(a->created_at, 1);

  domain::EmailTemplate changed = tpl("a", 99);
  changed.subject.reset();
  changed.text = "t";
  EXPECT_EQ(s->update(changed), domain::TemplateWrite::Done);
  a = s->get("a");
  EXPECT_FALSE(a->subject);
  EXPECT_EQ(a->text, "t");
  EXPECT_EQ(a->created_at, 1);  // kept
  EXPECT_EQ(s->update(tpl("zz", 1)), domain::TemplateWrite::NotFound);

  auto page = s->list("", 2);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].name, "a");
  EXPECT_EQ(page[1].name, "b");
  page = s->list("b", 2);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].name, "c");
  EXPECT_EQ(page[0].created_at, 3);
  EXPECT_TRUE(s->list("", 0).empty());
  EXPECT_EQ(s->create(tpl("B", 4)), domain::TemplateWrite::Done);
  EXPECT_EQ(s->list("", 1)[0].name, "B");  // byte order: upper case first

  EXPECT_EQ(s->remove("b"), domain::TemplateWrite::Done);
  EXPECT_EQ(s->remove("b"), domain::TemplateWrite::NotFound);
  EXPECT_FALSE(s->get("b"));

  // Visible to a second store over the same database (another node, or v1 and v2).
  pg::Pool other_pool(db.url());
  auto again = PgTemplateStore::open(other_pool);
  EXPECT_EQ(again->list("", 10).size(), 3u);
  EXPECT_EQ(again->get("a")->text, "t");
  EXPECT_EQ(s->remove("a"), domain::TemplateWrite::Done);
  EXPECT_FALSE(again->get("a"));
}

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
