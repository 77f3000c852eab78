#include "storage/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace mailtally::storage {
namespace {

namespace fs = std::filesystem;
using namespace domain;

// ---- helpers ----

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "mailtally-storage-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

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

// Every option set, every destination type, every enum value, awkward strings and doubles.
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
                                         {"d2", DimensionValueSource::EmailHeader, "v2"},
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

// Runs one SQL statement directly on the database file (bypassing the store).
void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

std::int64_t raw_count(const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, ("SELECT count(*) FROM " + table).c_str(), -1, &s, nullptr);
  sqlite3_step(s);
  std::int64_t n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = SqliteStore::open(path_); }
  void reopen() {
    store_.reset();
    store_ = SqliteStore::open(path_);
  }

  TempDir dir_;
  std::string path_ = dir_.file("store.db");
  std::unique_ptr<SqliteStore> store_;
};

// ---- configuration sets ----

TEST_F(SqliteStoreTest, FullyPopulatedRecordRoundTripsExactly) {
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

TEST_F(SqliteStoreTest, ListPaginatesInNameOrder) {
  std::vector<std::string> names;
  for (int i = 0; i < 25; ++i) names.push_back("set-" + std::to_string(100 + (i * 7) % 25));
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
  EXPECT_EQ(store_->list_configuration_sets("", SIZE_MAX).size(), 25u);
}

TEST_F(SqliteStoreTest, CreateChecksExistenceThenLimit) {
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
}

TEST_F(SqliteStoreTest, UpdateWritesMutatedRecord) {
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
  EXPECT_EQ(raw_count(path_, "event_destinations"), 0);
}

TEST_F(SqliteStoreTest, FailedMutateRollsBack) {
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
}

TEST_F(SqliteStoreTest, DeleteCascadesToDestinations) {
  ASSERT_TRUE(store_->create_configuration_set(full_set("s"), 10));
  ASSERT_TRUE(store_->create_configuration_set(full_set("t"), 10));
  EXPECT_EQ(raw_count(path_, "event_destinations"), 12);
  EXPECT_TRUE(store_->delete_configuration_set("s"));
  EXPECT_FALSE(store_->delete_configuration_set("s"));
  EXPECT_FALSE(store_->get_configuration_set("s"));
  EXPECT_EQ(raw_count(path_, "event_destinations"), 6);
  ASSERT_TRUE(store_->create_configuration_set(plain_set("s"), 10));
  EXPECT_TRUE(store_->get_configuration_set("s")->destinations.empty());
  expect_same(*store_->get_configuration_set("t"), full_set("t"));
}

// ---- identities and access keys ----

TEST_F(SqliteStoreTest, IdentitiesCrudAndListByType) {
  Identity domain = identity("example.com", IdentityType::Domain);
  domain.status = VerificationStatus::TemporaryFailure;
  domain.verification_token = "tok";
  domain.default_configuration_set = "s";
  domain.tags = {{"a", "1"}, {"b", ""}};
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

  EXPECT_TRUE(store_->delete_identity("example.com"));
  EXPECT_FALSE(store_->delete_identity("example.com"));
  EXPECT_FALSE(store_->get_identity("example.com"));
  reopen();
  EXPECT_EQ(store_->list_identities(std::nullopt, "", 100).size(), 14u);
  EXPECT_EQ(store_->get_identity("d3.org"), identity("d3.org", IdentityType::Domain));
}

TEST_F(SqliteStoreTest, AccessKeysCrud) {
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

TEST_F(SqliteStoreTest, CorruptRowsThrowInsteadOfReturningPartialData) {
  ASSERT_TRUE(store_->create_configuration_set(full_set("s"), 10));
  store_->put_identity(identity("a@example.com", IdentityType::EmailAddress));
  raw_exec(path_, "UPDATE event_destinations SET definition = '{\"enabled\":1}'");
  raw_exec(path_, "UPDATE identities SET tags = 'not json'");
  EXPECT_THROW(store_->get_configuration_set("s"), std::runtime_error);
  EXPECT_THROW(store_->get_identity("a@example.com"), std::runtime_error);
  EXPECT_EQ(store_->list_configuration_sets("", 10).size(), 1u);  // the store stays usable
}

// ---- files, schema ----

TEST(SqliteStoreFiles, DatabaseFilesAreMode0600EvenWithPermissiveUmask) {
  for (bool exclusive : {true, false}) {
    TempDir dir;
    std::string path = dir.file("private.db");
    mode_t old = ::umask(0);
    auto store = SqliteStore::open(path, {.exclusive_process = exclusive});
    ::umask(old);
    store->put_access_key({"AKIA", "secret", "n", 0});
    std::vector<std::string> files = {path, path + "-wal"};
    if (!exclusive) files.push_back(path + "-shm");  // exclusive: WAL index on the heap
    for (const std::string& f : files) {
      struct stat st {};
      ASSERT_EQ(::stat(f.c_str(), &st), 0) << f;
      EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
    }
  }
}

// Started with MAILTALLY_PROBE_DB and MAILTALLY_PROBE_SQL set, this binary runs that SQL with
// plain SQLite (no busy wait) and exits with SQLite's primary result code, before main(). Tests
// use it to look at a database from a fresh process: a fork()ed child would inherit this
// process's SQLite lock bookkeeping and see what this process sees.
[[maybe_unused]] const bool kProbeMode = [] {
  const char* db_path = std::getenv("MAILTALLY_PROBE_DB");
  const char* sql = std::getenv("MAILTALLY_PROBE_SQL");
  if (db_path == nullptr || sql == nullptr) return false;
  sqlite3* db = nullptr;
  int rc = sqlite3_open(db_path, &db);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  ::_exit(rc & 0xff);
}();

// Runs `sql` on `path` in a fresh process; returns SQLite's primary result code.
int sqlite_rc_in_other_process(const std::string& path, const std::string& sql) {
  std::string db_env = "MAILTALLY_PROBE_DB=" + path, sql_env = "MAILTALLY_PROBE_SQL=" + sql;
  char* envp[] = {db_env.data(), sql_env.data(), nullptr};
  pid_t child = ::fork();
  if (child == 0) {
    ::execle("/proc/self/exe", "sqlite-probe", static_cast<char*>(nullptr), envp);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SqliteStoreFiles, ExclusiveProcessLocksOutOtherProcesses) {
  TempDir dir;
  std::string path = dir.file("excl.db");
  {
    auto store = SqliteStore::open(path, {.exclusive_process = true});
    store->put_access_key({"AKIA", "secret", "n", 0});
    EXPECT_EQ(sqlite_rc_in_other_process(path, "SELECT * FROM access_keys"), SQLITE_BUSY);
    EXPECT_EQ(raw_count(path, "access_keys"), 1);  // same process: fine
  }
  EXPECT_EQ(sqlite_rc_in_other_process(path, "SELECT * FROM access_keys"), SQLITE_OK);  // released
  auto shared = SqliteStore::open(path);  // default: shared with other processes
  EXPECT_EQ(sqlite_rc_in_other_process(path, "INSERT INTO access_keys VALUES ('B', 's', 'n', 1.0)"),
            SQLITE_OK);
  EXPECT_EQ(shared->list_access_keys().size(), 2u);
}

TEST(SqliteStoreFiles, OpenFailuresAreClear) {
  TempDir dir;
  try {
    SqliteStore::open(dir.file("no/such/dir/x.db"));
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/dir/x.db"), std::string::npos) << e.what();
  }
  EXPECT_THROW(SqliteStore::open(":memory:"), std::runtime_error);
}

TEST(SqliteStoreFiles, RefusesNewerSchema) {
  TempDir dir;
  std::string path = dir.file("future.db");
  SqliteStore::open(path).reset();
  raw_exec(path, "PRAGMA user_version = 999");
  try {
    SqliteStore::open(path);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("schema version 999"), std::string::npos) << what;
    EXPECT_NE(what.find("newer"), std::string::npos) << what;
  }
}

TEST(SqliteStoreFiles, RefusesForeignDatabase) {
  TempDir dir;
  std::string path = dir.file("foreign.db");
  raw_exec(path, "CREATE TABLE t (x)");
  EXPECT_THROW(SqliteStore::open(path), std::runtime_error);
  raw_exec(path, "PRAGMA application_id = 42");
  EXPECT_THROW(SqliteStore::open(path), std::runtime_error);
}

TEST(SqliteStoreFiles, PowerLossDurabilityWorks) {
  TempDir dir;
  auto store = SqliteStore::open(dir.file("full.db"),
                                 {.durability = Durability::PowerLoss, .max_connections = 2});
  ASSERT_TRUE(store->create_configuration_set(plain_set("x"), 10));
  EXPECT_TRUE(store->get_configuration_set("x"));
}

// ---- concurrency and durability ----

TEST_F(SqliteStoreTest, ConcurrentUpdatesLoseNothing) {
  ASSERT_TRUE(store_->create_configuration_set(plain_set("shared"), 10));
  constexpr int kThreads = 4, kPerThread = 50;
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
      for (std::size_t i = 0; i < rec->destinations.size(); ++i) {
        ASSERT_FALSE(rec->destinations[i].name.empty());
      }
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

TEST_F(SqliteStoreTest, ConcurrentCreatesRespectTheLimit) {
  std::atomic<int> created{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto r = store_->create_configuration_set(
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
  EXPECT_EQ(store_->list_configuration_sets("", 1000).size(), 30u);
}

// Child-process body: opens the store, writes sets k0, k1, ... (full records) and reports the
// index of each on `fd` after its call returned. Stops after `count` sets (then _exits without
// running any destructor) or runs until killed when count < 0. Never returns.
[[noreturn]] void write_sets_in_child(const std::string& path, int fd, int count) {
  try {
    auto store = SqliteStore::open(path);
    for (int i = 0; count < 0 || i < count; ++i) {
      if (!store->create_configuration_set(full_set("k" + std::to_string(i)), SIZE_MAX)) {
        ::_exit(2);
      }
      if (::write(fd, &i, sizeof i) != sizeof i) ::_exit(3);
    }
    ::_exit(0);  // no destructors: the store is never closed
  } catch (...) {
    ::_exit(4);
  }
}

// Forks a writer; once it has reported `at_least` sets, SIGKILLs it (kill = true) or waits for it
// to _exit by itself after exactly that many (kill = false). Returns the number reported.
int run_writer_child(const std::string& path, int at_least, bool kill) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    ::close(fds[0]);
    write_sets_in_child(path, fds[1], kill ? -1 : at_least);
  }
  ::close(fds[1]);
  int last = -1, i = 0;
  while (last + 1 < at_least && ::read(fds[0], &i, sizeof i) == sizeof i) last = i;
  if (kill) ::kill(child, SIGKILL);
  while (::read(fds[0], &i, sizeof i) == sizeof i) last = i;  // reported before it died
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (kill) {
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  } else {
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  return last + 1;
}

void expect_sets_k0_to(const std::string& path, int count) {
  auto store = SqliteStore::open(path);
  for (int k = 0; k < count; ++k) {
    auto got = store->get_configuration_set("k" + std::to_string(k));
    ASSERT_TRUE(got) << "lost k" << k << " of " << count;
    expect_same(*got, full_set("k" + std::to_string(k)));
  }
}

// The child is killed mid-stream, right after calls returned: every reported set survives.
TEST(SqliteStoreDurability, SurvivesSigkillRightAfterCallsReturn) {
  TempDir dir;
  std::string path = dir.file("kill.db");
  int reported = run_writer_child(path, 300, /*kill=*/true);
  ASSERT_GE(reported, 300);
  expect_sets_k0_to(path, reported);
}

TEST(SqliteStoreDurability, SurvivesExitWithoutClosing) {
  TempDir dir;
  std::string path = dir.file("exit.db");
  ASSERT_EQ(run_writer_child(path, 100, /*kill=*/false), 100);
  expect_sets_k0_to(path, 100);
}

// Rough latency of the hot-path reads, in both locking modes (informational: prints, asserts
// only correctness).
TEST(SqliteStoreTiming, HotPathReads) {
  for (bool exclusive : {false, true}) {
    TempDir dir;
    auto store = SqliteStore::open(dir.file("timing.db"), {.exclusive_process = exclusive});
    for (int i = 0; i < 1000; ++i) {
      ConfigurationSetRecord r = plain_set("set-" + std::to_string(10000 + i));
      r.destinations = {sns_destination("a"), sns_destination("b")};
      ASSERT_TRUE(store->create_configuration_set(r, 10000));
    }
    using Clock = std::chrono::steady_clock;
    constexpr int kIterations = 20000;
    auto t0 = Clock::now();
    std::size_t found = 0;
    for (int i = 0; i < kIterations; ++i) {
      found += store->get_configuration_set("set-" + std::to_string(10000 + i % 1000)) ? 1 : 0;
    }
    auto t1 = Clock::now();
    std::size_t listed = 0;
    for (int i = 0; i < kIterations; ++i) {
      listed += store->list_configuration_sets("set-" + std::to_string(10000 + i % 900), 20).size();
    }
    auto t2 = Clock::now();
    EXPECT_EQ(found, std::size_t{kIterations});
    EXPECT_EQ(listed, std::size_t{kIterations} * 20);

    // Two threads at once (the benchmark machine has 2 cores): aggregate calls per second.
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kIterations; ++i) {
          EXPECT_TRUE(store->get_configuration_set("set-" + std::to_string(10000 + i % 1000)));
        }
      });
    }
    for (auto& th : threads) th.join();
    auto t3 = Clock::now();

    auto us = [](auto d) {
      return std::chrono::duration<double, std::micro>(d).count() / kIterations;
    };
    std::printf(
        "%s: get (2 destinations) %.2f us, list (20 names) %.2f us, "
        "get on 2 threads %.0f calls/s\n",
        exclusive ? "exclusive_process" : "shared (default)", us(t1 - t0), us(t2 - t1),
        2 * kIterations / std::chrono::duration<double>(t3 - t2).count());
  }
}

}  // namespace
}  // namespace mailtally::storage
