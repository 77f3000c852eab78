// The contract every TemplateStore implementation passes: create/update/remove/get/list, name
// (byte) ordered pages, created_at kept by update, exact bytes of the parts, and a change made
// through one store object seen by another over the same data.
//
// A typed, parameterised GoogleTest suite: a test binary includes this header once and
// instantiates it with a Backend:
//   struct Backend {
//     using Store = ...;  // a domain::TemplateStore
//     // A new store object over this backend's data (each call: the same data; the objects
//     // returned earlier stay valid, as v1 and v2 or two nodes share one database).
//     std::unique_ptr<Store> open();
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Name, TemplateStoreContract, ::testing::Types<Backend>);
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "domain/template_store.hpp"

namespace mailtally::storage::contract {

inline domain::EmailTemplate tpl(std::string name, double created) {
  domain::EmailTemplate t;
  t.name = std::move(name);
  t.subject = "Hi {{n}}";
  t.html = std::string("<p>\0\xff</p>", 9);  // a NUL byte and a byte that is not UTF-8
  t.created_at = created;
  return t;
}

template <typename Backend>
class TemplateStoreContract : public ::testing::Test {
 protected:
  void SetUp() override { store_ = backend_.open(); }
  void TearDown() override { store_.reset(); }

  Backend backend_;
  std::unique_ptr<typename Backend::Store> store_;
};

TYPED_TEST_SUITE_P(TemplateStoreContract);

TYPED_TEST_P(TemplateStoreContract, CrudAndPages) {
  auto* s = this->store_.get();
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

  // Visible to a second store over the same data (another node, or v1 and v2).
  auto again = this->backend_.open();
  EXPECT_EQ(again->list("", 10).size(), 3u);
  EXPECT_EQ(again->get("a")->text, "t");
  EXPECT_EQ(s->remove("a"), domain::TemplateWrite::Done);
  EXPECT_FALSE(again->get("a"));
}

REGISTER_TYPED_TEST_SUITE_P(TemplateStoreContract, CrudAndPages);

}  // namespace mailtally::storage::contract
