// The contract every ConfigStore implementation passes (configuration sets with their event
// destinations, identities, access keys): exact round trips, paging in byte order, limits and
// errors, rollback of a failed update, cascading deletes, corrupt rows, and concurrent threads of
// one process.
//
// A typed, parameterised GoogleTest suite: a test binary includes this header once and
// instantiates it with a Backend:
//   struct Backend {
//     using Store = ...;  // a domain::ConfigStore
//     // A store over this backend's data (each call: the same data, as a reopen would see).
//     // The previous store is destroyed before the next open().
//     std::unique_ptr<Store> open();
//     std::int64_t count(const std::string& table);  // rows in a table, read around the store
//     void corrupt_destinations_and_identity_tags();  // writes undecodable JSON into every
//                                                     // event_destinations.definition and
//                                                     // identities.tags
//     static constexpr int kUpdatesPerThread = ...;   // ConcurrentUpdatesLoseNothing's load
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Name, ConfigStoreContract, ::testing::Types<Backend>);
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "domain/store.hpp"

namespace mailtally::storage::contract {

using namespace domain;

inline ConfigurationSetRecord plain_set(const std::string& name) {
  ConfigurationSetRecord r;
  r.set.name = name;
  r.set.created_at = 1700000000.5;
  return r;
}

inline EventDestination sns_destination(const std::string& name) {
  EventDestination d;
  d.name = name;
  d.enabled = true;
  d.matching_event_types = {EventType::Send};
  d.sns = SnsDestination{"arn:aws:sns:us-east-1:123456789012:" + name};
  return d;
}

// Every option set, every destination type, every enum value, awkward strings (a NUL byte,
// bytes that are not UTF-8) and doubles.
inline ConfigurationSetRecord full_set(const std::string& name) {
  ConfigurationSetRecord r;
  ConfigurationSet& s = r.set;
  s.name = name;
  s.custom_redirect_domain = "track.example.com";
  s.tls_policy = TlsPolicy::Require;
  s.sending_pool_name = "pool-\"quoted\"\\back";
  s.reputation_metrics_enabled = true;
  s.last_fresh_start = 0.1 + 0.2;  // not representable as a short decimal
  s.sending_enabled = false;
  s.suppressed_reasons = std::vector<std::string>{"BOUNCE", "COMPLAINT"};
  s.vdm_engagement_metrics = "ENABLED";
  s.vdm_optimized_shared_delivery = "DISABLED";
  s.tags = {{"k\xc3\xa9y", std::string("nul\0byte", 8)}, {"bad-utf8", "\xff\xfe"}, {"", ""}};
  s.created_at = 1700000000.123456789;

  EventDestination cw;
  cw.name = "cw";
  cw.enabled = true;
  for (int t = 0; t < kEventTypeCount; ++t) {
    cw.matching_event_types.push_back(static_cast<EventType>(kEventTypeCount - 1 - t));
  }
  cw.cloudwatch = CloudWatchDestination{{{"d1", DimensionValueSource::MessageTag, "v1"},
                                         {"d2", DimensionValueSource::EmailHeader, "\xff"},
                                         {"d3", DimensionValueSource::LinkTag, ""}}};
  EventDestination sns = sns_destination("sns");
  EventDestination firehose;
  firehose.name = "firehose";
  firehose.matching_event_types = {EventType::Bounce, EventType::Complaint};
  firehose.firehose = FirehoseDestination{"arn:aws:iam::1:role/r", "arn:aws:firehose:s"};
  EventDestination bridge;
  bridge.name = "bridge";
  bridge.enabled = true;
  bridge.matching_event_types = {EventType::Open, EventType::Click};
  bridge.eventbridge = EventBridgeDestination{"arn:aws:events:us-east-1:1:event-bus/default"};
  EventDestination pinpoint;
  pinpoint.name = "pinpoint";
  pinpoint.matching_event_types = {EventType::DeliveryDelay};
  pinpoint.pinpoint = PinpointDestination{"arn:aws:mobiletargeting:app"};
  EventDestination bare;  // not yet validated: no type, nothing set
  bare.name = "bare";
  r.destinations = {pinpoint, cw, sns, bare, firehose, bridge};  // not in name order
  return r;
}

inline void expect_same(const ConfigurationSetRecord& a, const ConfigurationSetRecord& b) {
  EXPECT_TRUE(a.set == b.set) << a.set.name;
  EXPECT_TRUE(a.destinations == b.destinations) << a.set.name;
}

inline Identity identity(const std::string& name, IdentityType type) {
  Identity id;
  id.name = name;
  id.type = type;
  id.created_at = 1700000001.25;
  return id;
}

template <typename Backend>
class ConfigStoreContract : public ::testing::Test {
 protected:
  void SetUp() override { store_ = backend_.open(); }
  void TearDown() override { store_.reset(); }
  void reopen() {
    store_.reset();
    store_ = backend_.open();
  }

  Backend backend_;
  std::unique_ptr<typename Backend::Store> store_;
};

TYPED_TEST_SUITE_P(ConfigStoreContract);

// ---- configuration sets ----

TYPED_TEST_P(ConfigStoreContract, FullyPopulatedRecordRoundTripsExactly) {
  ConfigurationSetRecord full = full_set("full");
  ConfigurationSetRecord empty_reasons = plain_set("empty-reasons");
  empty_reasons.set.suppressed_reasons = std::vector<std::string>{};  // present but empty
  ASSERT_TRUE(this->store_->create_configuration_set(full, 100));
  ASSERT_TRUE(this->store_->create_configuration_set(empty_reasons, 100));
  ASSERT_TRUE(this->store_->create_configuration_set(plain_set("plain"), 100));

  for (int round = 0; round < 2; ++round) {
    auto got = this->store_->get_configuration_set("full");
    ASSERT_TRUE(got);
    expect_same(*got, full);
    EXPECT_EQ(got->set.last_fresh_start, 0.1 + 0.2);  // bit-exact, not approximately
    auto reasons = this->store_->get_configuration_set("empty-reasons");
    ASSERT_TRUE(reasons && reasons->set.suppressed_reasons);
    expect_same(*reasons, empty_reasons);
    auto plain = this->store_->get_configuration_set("plain");
    ASSERT_TRUE(plain);
    expect_same(*plain, plain_set("plain"));
    EXPECT_FALSE(plain->set.suppressed_reasons);
    this->reopen();
  }
  EXPECT_FALSE(this->store_->get_configuration_set("missing"));
  EXPECT_FALSE(this->store_->get_configuration_set("FULL"));  // names are case-sensitive
}

TYPED_TEST_P(ConfigStoreContract, ListPaginatesInNameOrder) {
  std::vector<std::string> names;
  for (int i = 0; i < 25; ++i) names.push_back("set-" + std::to_string(100 + (i * 7) % 25));
  names.push_back("Set-Upper");  // byte order: upper case first, whatever the locale
  names.push_back("set_");
  for (const auto& n : names)
    ASSERT_TRUE(this->store_->create_configuration_set(plain_set(n), 1000));
  std::sort(names.begin(), names.end());

  std::vector<std::string> seen;
  std::string after;
  for (;;) {
    auto page = this->store_->list_configuration_sets(after, 10);
    ASSERT_LE(page.size(), 10u);
    if (page.empty()) break;
    seen.insert(seen.end(), page.begin(), page.end());
    after = page.back();
  }
  EXPECT_EQ(seen, names);
  EXPECT_TRUE(this->store_->list_configuration_sets("", 0).empty());
  EXPECT_EQ(this->store_->list_configuration_sets("set-1105", 2),
            (std::vector<std::string>{"set-111", "set-112"}));  // `after` need not exist
  EXPECT_EQ(this->store_->list_configuration_sets("", SIZE_MAX).size(), 27u);
}

TYPED_TEST_P(ConfigStoreContract, CreateChecksExistenceThenLimit) {
  ASSERT_TRUE(this->store_->create_configuration_set(plain_set("a"), 2));
  auto dup = this->store_->create_configuration_set(plain_set("a"), 2);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().kind, ErrorKind::AlreadyExists);
  EXPECT_EQ(dup.error().subject, Subject::ConfigurationSet);
  EXPECT_EQ(dup.error().message, "Configuration set a already exists.");
  EXPECT_EQ(dup.error().configuration_set, "a");

  ASSERT_TRUE(this->store_->create_configuration_set(plain_set("b"), 2));
  auto over = this->store_->create_configuration_set(plain_set("c"), 2);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().kind, ErrorKind::LimitExceeded);
  EXPECT_EQ(over.error().subject, Subject::ConfigurationSet);
  EXPECT_EQ(over.error().message, "Maximum number of configuration sets (2) reached.");
  EXPECT_FALSE(this->store_->get_configuration_set("c"));
  EXPECT_EQ(this->store_->list_configuration_sets("", 10).size(), 2u);
  EXPECT_TRUE(this->store_->create_configuration_set(plain_set("c"), 3));
  EXPECT_TRUE(this->store_->create_configuration_set(plain_set("d"), SIZE_MAX));  // no limit
}

TYPED_TEST_P(ConfigStoreContract, UpdateWritesMutatedRecord) {
  ASSERT_TRUE(this->store_->create_configuration_set(full_set("s"), 10));
  ConfigurationSetRecord expected = full_set("s");
  auto change = [](ConfigurationSetRecord& r) -> Status {
    r.set.sending_enabled = true;
    r.set.last_fresh_start.reset();
    r.destinations.erase(r.destinations.begin() + 1);          // a middle one
    std::swap(r.destinations.front(), r.destinations.back());  // reorder
    r.destinations.push_back(sns_destination("added"));
    r.destinations[2].enabled = !r.destinations[2].enabled;
    return base::Ok{};
  };
  ASSERT_TRUE(change(expected));
  ASSERT_TRUE(this->store_->update_configuration_set("s", change));
  expect_same(*this->store_->get_configuration_set("s"), expected);
  this->reopen();
  expect_same(*this->store_->get_configuration_set("s"), expected);

  // Removing every destination, and a no-op update.
  ASSERT_TRUE(this->store_->update_configuration_set("s", [](ConfigurationSetRecord& r) -> Status {
    r.destinations.clear();
    return base::Ok{};
  }));
  ASSERT_TRUE(
      this->store_->update_configuration_set("s", [](auto&) -> Status { return base::Ok{}; }));
  expected.destinations.clear();
  expect_same(*this->store_->get_configuration_set("s"), expected);
  EXPECT_EQ(this->backend_.count("event_destinations"), 0);
}

TYPED_TEST_P(ConfigStoreContract, FailedMutateRollsBack) {
  ASSERT_TRUE(this->store_->create_configuration_set(full_set("s"), 10));
  auto result =
      this->store_->update_configuration_set("s", [](ConfigurationSetRecord& r) -> Status {
        r.set.tags.clear();
        r.destinations.clear();
        return fail(ErrorKind::InvalidParameter, Subject::EventDestination, "bad", "s", "cw");
      });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::InvalidParameter);
  EXPECT_EQ(result.error().subject, Subject::EventDestination);
  EXPECT_EQ(result.error().message, "bad");
  EXPECT_EQ(result.error().event_destination, "cw");
  expect_same(*this->store_->get_configuration_set("s"), full_set("s"));

  // A throwing mutate, and one producing a record the schema rejects (duplicate destination
  // names), also leave the record untouched and the store usable.
  EXPECT_THROW(this->store_->update_configuration_set("s",
                                                      [](ConfigurationSetRecord& r) -> Status {
                                                        r.destinations.clear();
                                                        throw std::runtime_error("boom");
                                                      }),
               std::runtime_error);
  EXPECT_THROW(this->store_->update_configuration_set("s",
                                                      [](ConfigurationSetRecord& r) -> Status {
                                                        r.destinations.push_back(r.destinations[0]);
                                                        return base::Ok{};
                                                      }),
               std::runtime_error);
  expect_same(*this->store_->get_configuration_set("s"), full_set("s"));

  auto missing = this->store_->update_configuration_set("nope", [](auto&) -> Status {
    ADD_FAILURE() << "mutate called for a missing set";
    return base::Ok{};
  });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(missing.error().message, "Configuration set nope does not exist.");
  // A record the schema rejects at creation leaves nothing behind either.
  ConfigurationSetRecord twice = plain_set("twice");
  twice.destinations = {sns_destination("x"), sns_destination("x")};
  EXPECT_THROW(this->store_->create_configuration_set(twice, 10), std::runtime_error);
  EXPECT_FALSE(this->store_->get_configuration_set("twice"));
}

TYPED_TEST_P(ConfigStoreContract, DeleteCascadesToDestinations) {
  ASSERT_TRUE(this->store_->create_configuration_set(full_set("s"), 10));
  ASSERT_TRUE(this->store_->create_configuration_set(full_set("t"), 10));
  EXPECT_EQ(this->backend_.count("event_destinations"), 12);
  EXPECT_TRUE(this->store_->delete_configuration_set("s"));
  EXPECT_FALSE(this->store_->delete_configuration_set("s"));
  EXPECT_FALSE(this->store_->get_configuration_set("s"));
  EXPECT_EQ(this->backend_.count("event_destinations"), 6);
  ASSERT_TRUE(this->store_->create_configuration_set(plain_set("s"), 10));
  EXPECT_TRUE(this->store_->get_configuration_set("s")->destinations.empty());
  expect_same(*this->store_->get_configuration_set("t"), full_set("t"));
}

// ---- identities and access keys ----

TYPED_TEST_P(ConfigStoreContract, IdentitiesCrudAndListByType) {
  Identity domain = identity("example.com", IdentityType::Domain);
  domain.status = VerificationStatus::TemporaryFailure;
  domain.verification_token = "tok";
  domain.default_configuration_set = "s";
  domain.tags = {{"a", "1"}, {"b", ""}, {"raw", "\xfe"}};
  this->store_->put_identity(domain);
  EXPECT_EQ(this->store_->get_identity("example.com"), domain);
  domain.status = VerificationStatus::Success;
  domain.default_configuration_set.reset();
  domain.tags.clear();
  this->store_->put_identity(domain);  // replaces
  EXPECT_EQ(this->store_->get_identity("example.com"), domain);
  EXPECT_FALSE(this->store_->get_identity("other.com"));

  for (int i = 0; i < 7; ++i) {
    this->store_->put_identity(
        identity("user" + std::to_string(i) + "@example.com", IdentityType::EmailAddress));
    this->store_->put_identity(identity("d" + std::to_string(i) + ".org", IdentityType::Domain));
  }
  std::vector<std::string> emails;
  std::string after;
  for (;;) {
    auto page = this->store_->list_identities(IdentityType::EmailAddress, after, 3);
    if (page.empty()) break;
    for (const auto& id : page) {
      EXPECT_EQ(id.type, IdentityType::EmailAddress);
      emails.push_back(id.name);
    }
    after = page.back().name;
  }
  ASSERT_EQ(emails.size(), 7u);
  EXPECT_TRUE(std::is_sorted(emails.begin(), emails.end()));
  EXPECT_EQ(this->store_->list_identities(IdentityType::Domain, "", 100).size(), 8u);
  auto all = this->store_->list_identities(std::nullopt, "d6.org", 100);
  ASSERT_EQ(all.size(), 8u);  // example.com + 7 emails
  EXPECT_EQ(all.front(), domain);
  EXPECT_TRUE(this->store_->list_identities(std::nullopt, "", 0).empty());

  EXPECT_TRUE(this->store_->delete_identity("example.com"));
  EXPECT_FALSE(this->store_->delete_identity("example.com"));
  EXPECT_FALSE(this->store_->get_identity("example.com"));
  this->reopen();
  EXPECT_EQ(this->store_->list_identities(std::nullopt, "", 100).size(), 14u);
  EXPECT_EQ(this->store_->get_identity("d3.org"), identity("d3.org", IdentityType::Domain));
}

TYPED_TEST_P(ConfigStoreContract, AccessKeysCrud) {
  AccessKey a{"AKIAEXAMPLE1", "secret/1+x", "admin", 1700000000.75};
  AccessKey b{"AKIAEXAMPLE0", "secret0", "", 1.0};
  this->store_->put_access_key(a);
  this->store_->put_access_key(b);
  auto got = this->store_->get_access_key("AKIAEXAMPLE1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->secret_access_key, a.secret_access_key);
  EXPECT_EQ(got->name, "admin");
  EXPECT_EQ(got->created_at, a.created_at);
  auto keys = this->store_->list_access_keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].access_key_id, "AKIAEXAMPLE0");
  a.secret_access_key = "rotated";
  this->store_->put_access_key(a);
  EXPECT_EQ(this->store_->get_access_key("AKIAEXAMPLE1")->secret_access_key, "rotated");
  EXPECT_TRUE(this->store_->delete_access_key("AKIAEXAMPLE1"));
  EXPECT_FALSE(this->store_->delete_access_key("AKIAEXAMPLE1"));
  EXPECT_FALSE(this->store_->get_access_key("AKIAEXAMPLE1"));
  EXPECT_EQ(this->store_->list_access_keys().size(), 1u);
  this->reopen();
  ASSERT_EQ(this->store_->list_access_keys().size(), 1u);
  EXPECT_EQ(this->store_->list_access_keys()[0].secret_access_key, "secret0");
}

TYPED_TEST_P(ConfigStoreContract, CorruptRowsThrowInsteadOfReturningPartialData) {
  ASSERT_TRUE(this->store_->create_configuration_set(full_set("s"), 10));
  this->store_->put_identity(identity("a@example.com", IdentityType::EmailAddress));
  this->backend_.corrupt_destinations_and_identity_tags();
  EXPECT_THROW(this->store_->get_configuration_set("s"), std::runtime_error);
  EXPECT_THROW(this->store_->get_identity("a@example.com"), std::runtime_error);
  EXPECT_EQ(this->store_->list_configuration_sets("", 10).size(), 1u);  // the store stays usable
}

TYPED_TEST_P(ConfigStoreContract, ConcurrentUpdatesLoseNothing) {
  using Backend = TypeParam;
  ASSERT_TRUE(this->store_->create_configuration_set(plain_set("shared"), 10));
  constexpr int kThreads = 4, kPerThread = Backend::kUpdatesPerThread;
  std::atomic<bool> writing{true};
  std::atomic<int> reads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto r = this->store_->update_configuration_set("shared", [&](ConfigurationSetRecord& rec) {
          rec.destinations.push_back(sns_destination(name));
          return Status(base::Ok{});
        });
        EXPECT_TRUE(r);
      }
    });
  }
  std::thread reader([&] {  // readers run alongside and always see a consistent record
    while (writing) {
      auto rec = this->store_->get_configuration_set("shared");
      ASSERT_TRUE(rec);
      for (const auto& d : rec->destinations) ASSERT_FALSE(d.name.empty());
      EXPECT_EQ(this->store_->list_configuration_sets("", 10).size(), 1u);
      ++reads;
    }
  });
  for (auto& th : threads) th.join();
  writing = false;
  reader.join();

  auto rec = this->store_->get_configuration_set("shared");
  ASSERT_TRUE(rec);
  ASSERT_EQ(rec->destinations.size(), std::size_t{kThreads * kPerThread});
  std::vector<std::string> names;
  for (const auto& d : rec->destinations) names.push_back(d.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
  EXPECT_GT(reads.load(), 0);
}

TYPED_TEST_P(ConfigStoreContract, ConcurrentCreatesRespectTheLimit) {
  std::atomic<int> created{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto r = this->store_->create_configuration_set(
            plain_set("c" + std::to_string(t) + "-" + std::to_string(i)), 30);
        if (r) {
          ++created;
        } else {
          EXPECT_EQ(r.error().kind, ErrorKind::LimitExceeded);
          ++refused;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), 30);
  EXPECT_EQ(refused.load(), 70);
  EXPECT_EQ(this->store_->list_configuration_sets("", 1000).size(), 30u);
}

REGISTER_TYPED_TEST_SUITE_P(ConfigStoreContract, FullyPopulatedRecordRoundTripsExactly,
                            ListPaginatesInNameOrder, CreateChecksExistenceThenLimit,
                            UpdateWritesMutatedRecord, FailedMutateRollsBack,
                            DeleteCascadesToDestinations, IdentitiesCrudAndListByType,
                            AccessKeysCrud, CorruptRowsThrowInsteadOfReturningPartialData,
                            ConcurrentUpdatesLoseNothing, ConcurrentCreatesRespectTheLimit);

}  // namespace mailtally::storage::contract
