// SqliteMetricStore: the MetricStore contract (metric_store_contract.hpp) plus what only the
// SQLite file has (refusing another application's database).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "metrics/metric_store_contract.hpp"
#include "metrics/sqlite_metric_store.hpp"

namespace mailtally::metrics::contract {
namespace {

// A private directory per test, removed at the end; open() reopens the same file.
class SqliteBackend {
 public:
  using Store = SqliteMetricStore;
  SqliteBackend() {
    dir_ = std::filesystem::temp_directory_path() /
           ("metrics_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~SqliteBackend() { std::filesystem::remove_all(dir_); }
  std::unique_ptr<Store> open(const base::Clock& clock) {
    return SqliteMetricStore::open((dir_ / "metrics.db").string(), clock);
  }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, MetricStoreContract, ::testing::Types<SqliteBackend>);

TEST(SqliteMetricStore, RefusesAnotherApplicationsDatabase) {
  SqliteBackend backend;
  base::ManualClock clock{base::TimePoint(std::chrono::seconds(kNow))};
  std::string other = (backend.dir() / "other.db").string();
  {
    sqlite3* db = nullptr;
    sqlite3_open(other.c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  EXPECT_THROW(SqliteMetricStore::open(other, clock), std::runtime_error);
}

}  // namespace
}  // namespace mailtally::metrics::contract
