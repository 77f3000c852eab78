// PgConfigStore: the contract tests of SqliteStore (sqlite_store_test.cpp) ported to PostgreSQL,
// plus two nodes (two pools, two stores) over one database.
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

namespace mailtally::storage {
namespace {

using namespace domain;

ConfigurationSetRecord plain_set(const std::string& name) {
  ConfigurationSetRecord r;
  r.set.name = name;
  r.set.created_at = 1700000000.5;
  return r;
}

EventDestination sns_destination(const std::string& name) {
  EventDestination d;
  d.name = name;
  d.enabled = true;
  d.matching_event_types = {EventType::Send};
  d.sns = SnsDestination{"arn:aws:sns:us-east-1:123456789012:" + name};
  return d;
}

// Every option set, every destination type, every enum value, awkward strings (a NUL byte,
// bytes that are not UTF-8) and doubles.
ConfigurationSetRecord full_set(const std::string& name) {
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

void expect_same(const ConfigurationSetRecord& a, const ConfigurationSetRecord& b) {
  EXPECT_TRUE(a.set == b.set) << a.set.name;
  EXPECT_TRUE(a.destinations == b.destinations) << a.set.name;
}

Identity identity(const std::string& name, IdentityType type) {
  Identity id;
  id.name = name;
  id.type = type;
  id.created_at = 1700000001.25;
  return id;
}

// One node: its own pool and store over the test database.
struct Node {
  explicit Node(const std::string& url) : pool(url), store(PgConfigStore::open(pool)) {}
  pg::Pool pool;
  std::unique_ptr<PgConfigStore> store;
};

class PgConfigStoreTest : public ::testing::Test {
 protected:
  void reopen() {
    node_.reset();
    node_ = std::make_unique<Node>(db_.url());
    store_ = node_->store.get();
  }
  void exec(const char* sql) { pg::Connection(db_.url()).exec(sql); }
  std::int64_t count(const std::string& table) {
    return pg::Connection(db_.url()).query("SELECT count(*) FROM " + table).integer(0, 0);
  }

  pg::testing::TestDatabase db_;
  std::unique_ptr<Node> node_ = std::make_unique<Node>(db_.url());
  PgConfigStore* store_ = node_->store.get();
};

// ---- configuration sets ----

TEST_F(PgConfigStoreTest, FullyPopulatedRecordRoundTripsExactly) {
  ConfigurationSetRecord full = full_set("full");
  ConfigurationSetRecord empty_reasons = plain_set("empty-reasons");
  empty_reasons.set.suppressed_reasons = std::vector<std::string>{};  // present but empty
  ASSERT_TRUE(store_->create_configuration_set(full, 100));
  ASSERT_TRUE(store_->create_configuration_set(empty_reasons, 100));
  ASSERT_TRUE(store_->create_configuration_set(plain_set("plain"), 100));

  for (int round = 0; round < 2; ++round) {
    auto got = store_->get_configuration_set("full");
    ASSERT_TRUE(got);
    expect_same(*got, full);
    EXPECT_EQ(got->set.last_fresh_start, 0.1 + 0.2);  // bit-exact, not approximately
    auto reasons = store_->get_configuration_set("empty-reasons");
    ASSERT_TRUE(reasons && reasons->set.suppressed_reasons);
    expect_same(*reasons, empty_reasons);
    auto plain = store_->get_configuration_set("plain");
    ASSERT_TRUE(plain);
    expect_same(*plain, plain_set("plain"));
    EXPECT_FALSE(plain->set.suppressed_reasons);
    reopen();
  }
  EXPECT_FALSE(store_->get_configuration_set("missing"));
  EXPECT_FALSE(store_->get_configuration_set("FULL"));  // names are case-sensitive
}

TEST_F(PgConfigStoreTest, ListPaginatesInNameOrder) {
  std::vector<std::string> names;
  for (int i = 0; i < 25; ++i) names.push_back("set-" + std::to_string(100 + (i * 7) % 25));
  names.push_back("Set-Upper");  // byte order: upper case first, whatever the locale
  names.push_back("set_");
  for (const auto& n : names) ASSERT_TRUE(store_->create_configuration_set(plain_set(n), 1000));
  std::sort(names.begin(), names.end());

  std::vector<std::string> seen;
  std::string after;
  for (;;) {
    auto page = store_->list_configuration_sets(after, 10);
    ASSERT_LE(page.size(), 10u);
    if (page.empty()) break;
    seen.insert(seen.end(), page.begin(), page.end());
    after = page.back();
  }
  EXPECT_EQ(seen, names);
  EXPECT_TRUE(store_->list_configuration_sets("", 0).empty());
  EXPECT_EQ(store_->list_configuration_sets("set-1105", 2),
            (std::vector<std::string>{"set-111", "set-112"}));  // `after` need not exist
  EXPECT_EQ(store_->list_configuration_sets("", SIZE_MAX).size(), 27u);
}

TEST_F(PgConfigStoreTest, CreateChecksExistenceThenLimit) {
  ASSERT_TRUE(store_->create_configuration_set(plain_set("a"), 2));
  auto dup = store_->create_configuration_set(plain_set("a"), 2);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().kind, ErrorKind::AlreadyExists);
  EXPECT_EQ(dup.error().subject, Subject::ConfigurationSet);
  EXPECT_EQ(dup.error().message, "Configuration set a already exists.");
  EXPECT_EQ(dup.error().configuration_set, "a");

  ASSERT_TRUE(store_->create_configuration_set(plain_set("b"), 2));
  auto over = store_->create_configuration_set(plain_set("c"), 2);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().kind, ErrorKind::LimitExceeded);
  EXPECT_EQ(over.error().subject, Subject::ConfigurationSet);
  EXPECT_EQ(over.error().message, "Maximum number of configuration sets (2) reached.");
  EXPECT_FALSE(store_->get_configuration_set("c"));
  EXPECT_EQ(store_->list_configuration_sets("", 10).size(), 2u);
  EXPECT_TRUE(store_->create_configuration_set(plain_set("c"), 3));
  EXPECT_TRUE(store_->create_configuration_set(plain_set("d"), SIZE_MAX));  // no limit
}

TEST_F(PgConfigStoreTest, UpdateWritesMutatedRecord) {
  ASSERT_TRUE(store_->create_configuration_set(full_set("s"), 10));
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
  ASSERT_TRUE(store_->update_configuration_set("s", change));
  expect_same(*store_->get_configuration_set("s"), expected);
  reopen();
  expect_same(*store_->get_configuration_set("s"), expected);

  // Removing every destination, and a no-op update.
  ASSERT_TRUE(store_->update_configuration_set("s", [](ConfigurationSetRecord& r) -> Status {
    r.destinations.clear();
    return base::Ok{};
  }));
  ASSERT_TRUE(store_->update_configuration_set("s", [](auto&) -> Status { return base::Ok{}; }));
  expected.destinations.clear();
  expect_same(*store_->get_configuration_set("s"), expected);
  EXPECT_EQ(count("event_destinations"), 0);
}

TEST_F(PgConfigStoreTest, FailedMutateRollsBack) {
  ASSERT_TRUE(store_->create_configuration_set(full_set("s"), 10));
  auto result = store_->update_configuration_set("s", [](ConfigurationSetRecord& r) -> Status {
    r.set.tags.clear();
    r.destinations.clear();
    return fail(ErrorKind::InvalidParameter, Subject::EventDestination, "bad", "s", "cw");
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::InvalidParameter);
  EXPECT_EQ(result.error().subject, Subject::EventDestination);
  EXPECT_EQ(result.error().message, "bad");
  EXPECT_EQ(result.error().event_destination, "cw");
  expect_same(*store_->get_configuration_set("s"), full_set("s"));

  // A throwing mutate, and one producing a record the schema rejects (duplicate destination
  // names), also leave the record untouched and the store usable.
  EXPECT_THROW(store_->update_configuration_set("s",
                                                [](ConfigurationSetRecord& r) -> Status {
                                                  r.destinations.clear();
                                                  throw std::runtime_error("boom");
                                                }),
               std::runtime_error);
  EXPECT_THROW(store_->update_configuration_set("s",
                                                [](ConfigurationSetRecord& r) -> Status {
                                                  r.destinations.push_back(r.destinations[0]);
                                                  return base::Ok{};
                                                }),
               std::runtime_error);
  expect_same(*store_->get_configuration_set("s"), full_set("s"));

  auto missing = store_->update_configuration_set("nope", [](auto&) -> Status {
    ADD_FAILURE() << "mutate called for a missing set";
    return base::Ok{};
  });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(missing.error().message, "Configuration set nope does not exist.");
  // A record the schema rejects at creation leaves nothing behind either.
  ConfigurationSetRecord twice = plain_set("twice");
  twice.destinations = {sns_destination("x"), sns_destination("x")};
  EXPECT_THROW(store_->create_configuration_set(twice, 10), std::runtime_error);
  EXPECT_FALSE(store_->get_configuration_set("twice"));
}

TEST_F(PgConfigStoreTest, DeleteCascadesToDestinations) {
  ASSERT_TRUE(store_->create_configuration_set(full_set("s"), 10));
  ASSERT_TRUE(store_->create_configuration_set(full_set("t"), 10));
  EXPECT_EQ(count("event_destinations"), 12);
  EXPECT_TRUE(store_->delete_configuration_set("s"));
  EXPECT_FALSE(store_->delete_configuration_set("s"));
  EXPECT_FALSE(store_->get_configuration_set("s"));
  EXPECT_EQ(count("event_destinations"), 6);
  ASSERT_TRUE(store_->create_configuration_set(plain_set("s"), 10));
  EXPECT_TRUE(store_->get_configuration_set("s")->destinations.empty());
  expect_same(*store_->get_configuration_set("t"), full_set("t"));
}

// ---- identities and access keys ----

TEST_F(PgConfigStoreTest, IdentitiesCrudAndListByType) {
  Identity domain = identity("example.com", IdentityType::Domain);
  domain.status = VerificationStatus::TemporaryFailure;
  domain.verification_token = "tok";
  domain.default_configuration_set = "s";
  domain.tags = {{"a", "1"}, {"b", ""}, {"raw", "\xfe"}};
  store_->put_identity(domain);
  EXPECT_EQ(store_->get_identity("example.com"), domain);
  domain.status = VerificationStatus::Success;
  domain.default_configuration_set.reset();
  domain.tags.clear();
  store_->put_identity(domain);  // replaces
  EXPECT_EQ(store_->get_identity("example.com"), domain);
  EXPECT_FALSE(store_->get_identity("other.com"));

  for (int i = 0; i < 7; ++i) {
    store_->put_identity(
        identity("user" + std::to_string(i) + "@example.com", IdentityType::EmailAddress));
    store_->put_identity(identity("d" + std::to_string(i) + ".org", IdentityType::Domain));
  }
  std::vector<std::string> emails;
  std::string after;
  for (;;) {
    auto page = store_->list_identities(IdentityType::EmailAddress, after, 3);
    if (page.empty()) break;
    for (const auto& id : page) {
      EXPECT_EQ(id.type, IdentityType::EmailAddress);
      emails.push_back(id.name);
    }
    after = page.back().name;
  }
  ASSERT_EQ(emails.size(), 7u);
  EXPECT_TRUE(std::is_sorted(emails.begin(), emails.end()));
  EXPECT_EQ(store_->list_identities(IdentityType::Domain, "", 100).size(), 8u);
  auto all = store_->list_identities(std::nullopt, "d6.org", 100);
  ASSERT_EQ(all.size(), 8u);  // example.com + 7 emails
  EXPECT_EQ(all.front(), domain);
  EXPECT_TRUE(store_->list_identities(std::nullopt, "", 0).empty());

  EXPECT_TRUE(store_->delete_identity("example.com"));
  EXPECT_FALSE(store_->delete_identity("example.com"));
  EXPECT_FALSE(store_->get_identity("example.com"));
  reopen();
  EXPECT_EQ(store_->list_identities(std::nullopt, "", 100).size(), 14u);
  EXPECT_EQ(store_->get_identity("d3.org"), identity("d3.org", IdentityType::Domain));
}

TEST_F(PgConfigStoreTest, AccessKeysCrud) {
  AccessKey a{"AKIAEXAMPLE1", "secret/1+x", "admin", 1700000000.75};
  AccessKey b{"AKIAEXAMPLE0", "secret0", "", 1.0};
  store_->put_access_key(a);
  store_->put_access_key(b);
  auto got = store_->get_access_key("AKIAEXAMPLE1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->secret_access_key, a.secret_access_key);
  EXPECT_EQ(got->name, "admin");
  EXPECT_EQ(got->created_at, a.created_at);
  auto keys = store_->list_access_keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].access_key_id, "AKIAEXAMPLE0");
  a.secret_access_key = "rotated";
  store_->put_access_key(a);
  EXPECT_EQ(store_->get_access_key("AKIAEXAMPLE1")->secret_access_key, "rotated");
  EXPECT_TRUE(store_->delete_access_key("AKIAEXAMPLE1"));
  EXPECT_FALSE(store_->delete_access_key("AKIAEXAMPLE1"));
  EXPECT_FALSE(store_->get_access_key("AKIAEXAMPLE1"));
  EXPECT_EQ(store_->list_access_keys().size(), 1u);
  reopen();
  ASSERT_EQ(store_->list_access_keys().size(), 1u);
  EXPECT_EQ(store_->list_access_keys()[0].secret_access_key, "secret0");
}

TEST_F(PgConfigStoreTest, CorruptRowsThrowInsteadOfReturningPartialData) {
  ASSERT_TRUE(store_->create_configuration_set(full_set("s"), 10));
  store_->put_identity(identity("a@example.com", IdentityType::EmailAddress));
  exec("UPDATE event_destinations SET definition = convert_to('{\"enabled\":1}', 'UTF8')");
  exec("UPDATE identities SET tags = convert_to('not json', 'UTF8')");
  EXPECT_THROW(store_->get_configuration_set("s"), std::runtime_error);
  EXPECT_THROW(store_->get_identity("a@example.com"), std::runtime_error);
  EXPECT_EQ(store_->list_configuration_sets("", 10).size(), 1u);  // the store stays usable
}

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

// ---- concurrency: threads of one node ----

TEST_F(PgConfigStoreTest, ConcurrentUpdatesLoseNothing) {
  ASSERT_TRUE(store_->create_configuration_set(plain_set("shared"), 10));
  constexpr int kThreads = 4, kPerThread = 25;
  std::atomic<bool> writing{true};
  std::atomic<int> reads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto r = store_->update_configuration_set("shared", [&](ConfigurationSetRecord& rec) {
          rec.destinations.push_back(sns_destination(name));
          return Status(base::Ok{});
        });
        EXPECT_TRUE(r);
      }
    });
  }
  std::thread reader([&] {  // readers run alongside and always see a consistent record
    while (writing) {
      auto rec = store_->get_configuration_set("shared");
      ASSERT_TRUE(rec);
      for (const auto& d : rec->destinations) ASSERT_FALSE(d.name.empty());
      EXPECT_EQ(store_->list_configuration_sets("", 10).size(), 1u);
      ++reads;
    }
  });
  for (auto& th : threads) th.join();
  writing = false;
  reader.join();

  auto rec = store_->get_configuration_set("shared");
  ASSERT_TRUE(rec);
  ASSERT_EQ(rec->destinations.size(), std::size_t{kThreads * kPerThread});
  std::vector<std::string> names;
  for (const auto& d : rec->destinations) names.push_back(d.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
  EXPECT_GT(reads.load(), 0);
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
