// SqliteTemplateStore: create/update/remove/get/list over the shared database file, name-ordered
// pages, created_at kept by update, and a finished enqueue of the sending store (a Rendering
// Failure) that never reaches the delivery queue.
#include "storage/sqlite/template_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "storage/sqlite/sending_store.hpp"

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

domain::EmailTemplate tpl(std::string name, double created) {
  domain::EmailTemplate t;
  t.name = std::move(name);
  t.subject = "Hi {{n}}";
  t.html = std::string("<p>\0</p>", 8);
  t.created_at = created;
  return t;
}

TEST(TemplateStore, CrudAndPages) {
  TempDb db;
  auto sending = SqliteSendingStore::open(db.path);  // creates the file
  auto s = SqliteTemplateStore::open(db.path);
  EXPECT_EQ(s->create(tpl("b", 2)), domain::TemplateWrite::Done);
  EXPECT_EQ(s->create(tpl("a", 1)), domain::TemplateWrite::Done);
  EXPECT_EQ(s->create(tpl("c", 3)), domain::TemplateWrite::Done);
  EXPECT_EQ(s->create(tpl("a", 9)), domain::TemplateWrite::AlreadyExists);
  auto a = s->get("a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->subject, "Hi {{n}}");
  EXPECT_FALSE(a->text);
  EXPECT_EQ(a->html, std::string("<p>\0</p>", 8));
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

  EXPECT_EQ(s->remove("b"), domain::TemplateWrite::Done);
  EXPECT_EQ(s->remove("b"), domain::TemplateWrite::NotFound);
  EXPECT_FALSE(s->get("b"));

  // Visible to a second store over the same file (as v1 and v2 share one store).
  auto again = SqliteTemplateStore::open(db.path);
  EXPECT_EQ(again->list("", 10).size(), 2u);
}

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
