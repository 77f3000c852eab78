// The contract every SuppressionStore implementation passes: the account-level reasons, put,
// list in address order with reason/time filters (end inclusive) and paging, and a delete that
// ignores the address's case.
//
// A typed, parameterised GoogleTest suite: a test binary includes this header once and
// instantiates it with a Backend:
//   struct Backend {
//     using Store = ...;              // a domain::SuppressionStore
//     std::unique_ptr<Store> open();  // a store over a fresh, empty database
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Name, SuppressionStoreContract, ::testing::Types<Backend>);
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "domain/suppression.hpp"

namespace mailtally::storage::contract {

template <typename Backend>
class SuppressionStoreContract : public ::testing::Test {
 protected:
  void SetUp() override { store_ = backend_.open(); }
  void TearDown() override { store_.reset(); }

  Backend backend_;
  std::unique_ptr<typename Backend::Store> store_;
};

TYPED_TEST_SUITE_P(SuppressionStoreContract);

TYPED_TEST_P(SuppressionStoreContract, PutListFilterDelete) {
  auto* sup = this->store_.get();
  EXPECT_TRUE(sup->account_suppressed_reasons().empty());
  sup->set_account_suppressed_reasons({"BOUNCE"});
  EXPECT_EQ(sup->account_suppressed_reasons(), std::vector<std::string>{"BOUNCE"});
  sup->put_suppressed({"c@example.com", "COMPLAINT", 30, "", ""});
  sup->put_suppressed({"a@example.com", "BOUNCE", 10, "", ""});
  sup->put_suppressed({"b@example.com", "BOUNCE", 20, "", ""});
  domain::SuppressionFilter f;
  auto all = sup->list_suppressed(f);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].email_address, "a@example.com");
  f.reasons = {"BOUNCE"};
  f.start = 15;
  auto some = sup->list_suppressed(f);
  ASSERT_EQ(some.size(), 1u);
  EXPECT_EQ(some[0].email_address, "b@example.com");
  f = {};
  f.after = "a@example.com";
  f.limit = 1;
  auto page = sup->list_suppressed(f);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].email_address, "b@example.com");
  f = {};
  f.reasons = {"COMPLAINT", "BOUNCE"};
  f.end = 20;  // inclusive
  EXPECT_EQ(sup->list_suppressed(f).size(), 2u);
  f.limit = 0;
  EXPECT_TRUE(sup->list_suppressed(f).empty());
  EXPECT_TRUE(sup->delete_suppressed("B@example.com"));
  EXPECT_FALSE(sup->delete_suppressed("b@example.com"));
  EXPECT_FALSE(sup->get_suppressed("b@example.com"));
  sup->set_account_suppressed_reasons({"BOUNCE", "COMPLAINT"});
  EXPECT_EQ(sup->account_suppressed_reasons(), (std::vector<std::string>{"BOUNCE", "COMPLAINT"}));
  sup->set_account_suppressed_reasons({});
  EXPECT_TRUE(sup->account_suppressed_reasons().empty());
}

REGISTER_TYPED_TEST_SUITE_P(SuppressionStoreContract, PutListFilterDelete);

}  // namespace mailtally::storage::contract
