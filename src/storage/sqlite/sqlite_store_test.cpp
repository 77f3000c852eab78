// SqliteStore: the ConfigStore contract (storage/config_store_contract.hpp, the same cases as
// PgConfigStore) plus what only the SQLite file has: file modes, process locking, open failures,
// schema versions, durability across a killed or exiting process, timing.
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

#include "storage/config_store_contract.hpp"

namespace mailtally::storage {
namespace {

namespace fs = std::filesystem;
using namespace domain;
using contract::expect_same;
using contract::full_set;
using contract::plain_set;
using contract::sns_destination;

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

// The contract's backend: a private directory per test; open() reopens the same file.
class SqliteBackend {
 public:
  using Store = SqliteStore;
  static constexpr int kUpdatesPerThread = 50;
  std::unique_ptr<Store> open() { return SqliteStore::open(path_); }
  std::int64_t count(const std::string& table) { return raw_count(path_, table); }
  void corrupt_destinations_and_identity_tags() {
    raw_exec(path_, "UPDATE event_destinations SET definition = '{\"enabled\":1}'");
    raw_exec(path_, "UPDATE identities SET tags = 'not json'");
  }

 private:
  TempDir dir_;
  std::string path_ = dir_.file("store.db");
};

}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(SqliteConfigStore, ConfigStoreContract,
                               ::testing::Types<SqliteBackend>);
}  // namespace contract

namespace {

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

// ---- durability ----

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
