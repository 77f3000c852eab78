// SqliteMetricStore: put and read back through every resolution, exact dimension match,
// units, percentiles, ListMetrics filters and paging, retention after compact(), cursors,
// persistence across reopen.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "metrics/compactor.hpp"
#include "metrics/rules.hpp"
#include "metrics/sqlite_metric_store.hpp"

namespace mailtally::metrics {
namespace {

using namespace std::chrono_literals;
constexpr std::int64_t kNow = 1'800'000'000;  // a whole hour

class MetricStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("metrics_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = SqliteMetricStore::open(path(), clock_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string path() const { return (dir_ / "metrics.db").string(); }

  static SeriesKey key(std::string name, std::vector<Dimension> dims = {},
                       std::string unit = "Count") {
    return SeriesKey{MetricKey{"App", std::move(name), std::move(dims)}, std::move(unit)};
  }
  static Datum datum(SeriesKey k, double ts, double v, int resolution = 60) {
    return Datum{std::move(k), ts, v, resolution};
  }
  std::vector<PeriodStatistics> stats(const MetricKey& m, std::int64_t start, std::int64_t end,
                                      std::int64_t period, bool sketch = false) {
    StatisticsQuery q;
    q.metric = m;
    q.start = start;
    q.end = end;
    q.period = period;
    q.with_sketch = sketch;
    return store_->statistics(q);
  }

  base::ManualClock clock_{base::TimePoint(std::chrono::seconds(kNow))};
  std::filesystem::path dir_;
  std::unique_ptr<SqliteMetricStore> store_;
};

TEST_F(MetricStoreTest, PerMinuteAggregates) {
  store_->put({datum(key("Latency"), kNow - 600 + 5, 10),
               datum(key("Latency"), kNow - 600 + 50, 30),
               datum(key("Latency"), kNow - 540 + 1, 20)});
  auto r = stats(key("Latency").metric, kNow - 600, kNow, 60);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].timestamp, kNow - 600);
  EXPECT_EQ(r[0].aggregate.sample_count, 2);
  EXPECT_EQ(r[0].aggregate.sum, 40);
  EXPECT_EQ(r[0].aggregate.minimum, 10);
  EXPECT_EQ(r[0].aggregate.maximum, 30);
  EXPECT_EQ(r[0].unit, "Count");
  EXPECT_EQ(r[1].timestamp, kNow - 540);
  // One period over both minutes, read from the 5-minute rows.
  auto whole = stats(key("Latency").metric, kNow - 600, kNow, 600);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].aggregate.sample_count, 3);
  EXPECT_EQ(whole[0].aggregate.sum, 60);
}

TEST_F(MetricStoreTest, PeriodsStartAtTheRequestedStart) {
  // Periods of 120 s starting at an odd minute: buckets [-540,-420) and [-420,-300).
  store_->put({datum(key("M"), kNow - 480, 1), datum(key("M"), kNow - 420, 2),
               datum(key("M"), kNow - 360, 4)});
  auto r = stats(key("M").metric, kNow - 540, kNow - 300, 120);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].timestamp, kNow - 540);
  EXPECT_EQ(r[0].aggregate.sum, 1);
  EXPECT_EQ(r[1].timestamp, kNow - 420);
  EXPECT_EQ(r[1].aggregate.sum, 6);
}

TEST_F(MetricStoreTest, ExactDimensionMatchAnyOrder) {
  std::vector<Dimension> both = {{"genre", "sf"}, {"campaign", "book"}};
  store_->put({datum(key("Send", both), kNow - 60, 1),
               datum(key("Send", {{"campaign", "book"}}), kNow - 60, 5)});
  MetricKey two{"App", "Send", {{"campaign", "book"}, {"genre", "sf"}}};
  MetricKey one{"App", "Send", {{"campaign", "book"}}};
  MetricKey other{"App", "Send", {{"genre", "sf"}}};
  EXPECT_EQ(stats(two, kNow - 60, kNow, 60).at(0).aggregate.sum, 1);
  EXPECT_EQ(stats(one, kNow - 60, kNow, 60).at(0).aggregate.sum, 5);
  EXPECT_TRUE(stats(other, kNow - 60, kNow, 60).empty());
  EXPECT_TRUE(stats(MetricKey{"App", "Send", {}}, kNow - 60, kNow, 60).empty());
}

TEST_F(MetricStoreTest, UnitsAreSeparateSeries) {
  store_->put(
      {datum(key("X", {}, "Count"), kNow - 60, 1), datum(key("X", {}, "Seconds"), kNow - 60, 2)});
  auto r = stats(key("X").metric, kNow - 60, kNow, 60);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].unit, "Count");
  EXPECT_EQ(r[1].unit, "Seconds");
  StatisticsQuery q{key("X").metric, std::string("Seconds"), kNow - 60, kNow, 60};
  auto only = store_->statistics(q);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0].aggregate.sum, 2);
  q.unit.reset();
  q.merge_units = true;
  auto merged = store_->statistics(q);
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0].aggregate.sum, 3);
  EXPECT_EQ(store_->series_count(), 2u);
}

TEST_F(MetricStoreTest, ValuesCountsAndStatisticSets) {
  store_->put({Datum{key("V"), double(kNow - 60), ValueList{{1, 2, 3}, {1, 1, 8}}, 60},
               Datum{key("V"), double(kNow - 60), StatisticSet{2, 10, 4, 6}, 60}});
  auto r = stats(key("V").metric, kNow - 60, kNow, 60, true);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].aggregate.sample_count, 12);
  EXPECT_EQ(r[0].aggregate.sum, 1 + 2 + 24 + 10);
  EXPECT_EQ(r[0].aggregate.minimum, 1);
  EXPECT_EQ(r[0].aggregate.maximum, 6);
  // The statistic set spans 4..6: percentiles are unavailable for the period.
  EXPECT_FALSE(r[0].aggregate.percentile(50).has_value());
}

TEST_F(MetricStoreTest, PercentilesAcrossMinutesAndRollups) {
  std::vector<Datum> batch;
  for (int i = 1; i <= 100; ++i) batch.push_back(datum(key("L"), kNow - 3600 + i * 30, i));
  store_->put(batch);
  auto r = stats(key("L").metric, kNow - 3600, kNow, 3600, true);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NEAR(*r[0].aggregate.percentile(50), 50, 0.5);
  EXPECT_NEAR(*r[0].aggregate.percentile(99), 99, 1);
  EXPECT_EQ(*r[0].aggregate.percentile(100), 100);
  // Without the sketch, no percentiles.
  EXPECT_FALSE(stats(key("L").metric, kNow - 3600, kNow, 3600)[0].aggregate.percentile(50));
}

TEST_F(MetricStoreTest, HighResolutionSeconds) {
  store_->put({datum(key("H"), kNow - 30 + 0.5, 1, 1), datum(key("H"), kNow - 29, 2, 1),
               datum(key("H"), kNow - 20, 4, 1), datum(key("S"), kNow - 30, 8, 60)});
  auto r = stats(key("H").metric, kNow - 30, kNow, 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].timestamp, kNow - 30);
  EXPECT_EQ(r[0].aggregate.sum, 3);
  EXPECT_EQ(r[1].aggregate.sum, 4);
  // Standard-resolution data has no sub-minute rows.
  EXPECT_TRUE(stats(key("S").metric, kNow - 30, kNow, 10).empty());
  // Both resolutions land in the minute rows.
  EXPECT_EQ(stats(key("H").metric, kNow - 60, kNow, 60).at(0).aggregate.sum, 7);
}

TEST_F(MetricStoreTest, CompactAppliesRetentionPerResolution) {
  using rules::kDay;
  store_->put({datum(key("R"), kNow - 10, 1, 1), datum(key("D", {{"c", "1"}}), kNow - 10, 1)});
  // Data 20 days old: gone from the minute rows, still in 5-minute and hourly ones.
  clock_.set(base::TimePoint(std::chrono::seconds(kNow - 13 * kDay)));
  store_->put({datum(key("R"), kNow - 14 * kDay + 60, 2)});
  clock_.set(base::TimePoint(std::chrono::seconds(kNow + 6 * kDay)));
  auto report = store_->compact(kNow + 6 * kDay);
  EXPECT_GT(report.rows_deleted, 0);
  std::int64_t old = kNow - 14 * kDay;
  EXPECT_TRUE(stats(key("R").metric, old + 60, old + 120, 60).empty());           // minute rows
  EXPECT_EQ(stats(key("R").metric, old, old + 300, 300).at(0).aggregate.sum, 2);  // 5-minute
  EXPECT_EQ(stats(key("R").metric, old, old + 3600, 3600).at(0).aggregate.sum, 2);
  EXPECT_TRUE(stats(key("R").metric, kNow - 10, kNow, 1).empty());  // seconds: 3 hours
  EXPECT_EQ(stats(key("R").metric, kNow - 60, kNow, 60).at(0).aggregate.sum, 1);
  // 500 days later everything (and the metric itself) has expired.
  auto late = store_->compact(kNow + 500 * kDay);
  EXPECT_EQ(late.series_expired, 2);
  EXPECT_EQ(store_->series_count(), 0u);
  clock_.set(base::TimePoint(std::chrono::seconds(kNow + 500 * kDay)));
  EXPECT_TRUE(store_->list_metrics({.dimensions = {{"c", std::nullopt}}})->metrics.empty());
  store_->put({datum(key("D", {{"c", "1"}}), kNow + 500 * kDay, 1)});
  EXPECT_EQ(store_->list_metrics({.dimensions = {{"c", std::string("1")}}})->metrics.size(), 1u);
  EXPECT_TRUE(stats(key("R").metric, old, old + 3600, 3600).empty());
}

// Reads give the same answers whether data sits in recent rows, in chunks, or in both.
TEST_F(MetricStoreTest, PackingPreservesEveryReadAndLateDataMerges) {
  using rules::kDay;
  std::vector<Datum> batch;
  for (std::int64_t m = 0; m < 3 * 24 * 60; m += 7) {
    batch.push_back(datum(key("P"), double(kNow - 3 * kDay + m * 60 + 13), double(m % 50)));
  }
  for (int s = 0; s < 120; ++s) batch.push_back(datum(key("P"), double(kNow - 7200 + s), 1000, 1));
  store_->put(batch);
  struct Read {
    std::int64_t start, end, period;
  };
  const Read reads[] = {{kNow - 3 * kDay, kNow, 3600},  {kNow - 3 * kDay + 60, kNow, 900},
                        {kNow - 3 * kDay, kNow, 300},   {kNow - kDay, kNow, 60},
                        {kNow - 2 * kDay, kNow, 86400}, {kNow - 7200, kNow - 7000, 10},
                        {kNow - 7200, kNow - 7000, 1}};
  auto snapshot = [&] {
    std::vector<std::vector<std::tuple<std::int64_t, double, double, double, double>>> all;
    for (const Read& r : reads) {
      std::vector<std::tuple<std::int64_t, double, double, double, double>> one;
      for (const auto& p : stats(key("P").metric, r.start, r.end, r.period, true)) {
        one.emplace_back(p.timestamp, p.aggregate.sample_count, p.aggregate.sum,
                         p.aggregate.minimum, *p.aggregate.percentile(90));
      }
      all.push_back(std::move(one));
    }
    return all;
  };
  auto before = snapshot();
  auto report = store_->compact(kNow);
  EXPECT_GT(report.rows_packed, 0);
  EXPECT_EQ(snapshot(), before);
  // A late datum for an hour already packed lands in recent rows and is read with the chunks.
  store_->put({datum(key("P"), double(kNow - 2 * kDay + 30), 7)});
  auto late = stats(key("P").metric, kNow - 2 * kDay, kNow - 2 * kDay + 3600, 3600);
  auto expected = std::get<1>(before[0].at(24));
  EXPECT_EQ(late.at(0).aggregate.sample_count, expected + 1);
  store_->compact(kNow);
  EXPECT_EQ(stats(key("P").metric, kNow - 2 * kDay, kNow - 2 * kDay + 3600, 3600)
                .at(0)
                .aggregate.sample_count,
            expected + 1);
}

// Readers never see a half-packed state: chunks and recent rows come from one snapshot.
TEST_F(MetricStoreTest, ReadsDuringCompactionStayConsistent) {
  using rules::kDay;
  for (int round = 0; round < 3; ++round) {
    std::vector<Datum> batch;
    for (std::int64_t m = 0; m < 4 * 24 * 60; m += 5) {
      batch.push_back(datum(key("K"), double(kNow - 4 * kDay + m * 60), 1));
    }
    store_->put(batch);
    const double expected = static_cast<double>(batch.size()) * (round + 1);
    std::atomic<bool> done{false};
    std::atomic<int> bad{0};
    std::atomic<int> reads{0};
    std::thread reader([&] {
      while (!done) {
        ++reads;
        double sum = 0;
        for (const auto& p : stats(key("K").metric, kNow - 4 * kDay, kNow, 3600)) {
          sum += p.aggregate.sum;
        }
        if (sum != expected) ++bad;
      }
    });
    while (reads == 0) std::this_thread::yield();
    store_->compact(kNow + round);
    done = true;
    reader.join();
    EXPECT_EQ(bad, 0);
  }
}

TEST_F(MetricStoreTest, ListMetricsFilters) {
  store_->put({datum(key("Send", {{"campaign", "a"}}), kNow, 1),
               datum(key("Send", {{"campaign", "b"}, {"genre", "x"}}), kNow, 1),
               datum(key("Open", {{"campaign", "a"}}), kNow, 1), datum(key("Send"), kNow, 1),
               Datum{SeriesKey{MetricKey{"Other", "Send", {}}, "Count"}, double(kNow), 1.0, 60}});
  auto list = [&](ListFilter f) { return store_->list_metrics(f)->metrics; };
  EXPECT_EQ(list({}).size(), 5u);
  EXPECT_EQ(list({.ns = "App"}).size(), 4u);
  EXPECT_EQ(list({.name = "Send"}).size(), 4u);
  EXPECT_EQ(list({.ns = "App", .name = "Send"}).size(), 3u);
  // A metric with more dimensions than the filter still matches.
  auto by_campaign = list({.ns = "App", .dimensions = {{"campaign", std::nullopt}}});
  EXPECT_EQ(by_campaign.size(), 3u);
  auto by_a = list({.dimensions = {{"campaign", std::string("a")}}});
  EXPECT_EQ(by_a.size(), 2u);
  auto both = list({.dimensions = {{"campaign", std::nullopt}, {"genre", std::string("x")}}});
  ASSERT_EQ(both.size(), 1u);
  EXPECT_EQ(both[0].dimensions.size(), 2u);
  EXPECT_TRUE(list({.ns = "Nope"}).empty());
}

TEST_F(MetricStoreTest, ListMetricsRecentlyActiveAndTwoWeeks) {
  store_->put({datum(key("Old"), kNow, 1)});
  clock_.advance(4h);
  store_->put({datum(key("New"), kNow + 4 * 3600, 1)});
  EXPECT_EQ(store_->list_metrics({})->metrics.size(), 2u);
  auto active = store_->list_metrics({.recently_active = true})->metrics;
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].name, "New");
  clock_.advance(std::chrono::hours(24 * 14));
  EXPECT_EQ(store_->list_metrics({})->metrics.size(), 1u);
}

TEST_F(MetricStoreTest, ListMetricsPaging) {
  std::vector<Datum> batch;
  for (int i = 0; i < 1203; ++i) {
    batch.push_back(datum(key("Send", {{"id", std::to_string(i)}}), kNow, 1));
  }
  store_->put(batch);
  std::set<std::string> seen;
  ListFilter f{.ns = "App", .name = "Send"};
  int pages = 0;
  for (;;) {
    auto page = store_->list_metrics(f);
    ASSERT_TRUE(page.has_value());
    ++pages;
    EXPECT_LE(page->metrics.size(), 500u);
    for (const auto& m : page->metrics) seen.insert(m.dimensions.at(0).value);
    if (!page->next_token) break;
    f.next_token = page->next_token;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 1203u);
  f.next_token = "not a token";
  EXPECT_FALSE(store_->list_metrics(f).has_value());
}

TEST_F(MetricStoreTest, PersistsAcrossReopen) {
  store_->put({datum(key("P", {{"d", "1"}}), kNow - 60, 3)}, CursorAdvance{"dest-1", 42});
  store_.reset();
  store_ = SqliteMetricStore::open(path(), clock_);
  EXPECT_EQ(store_->cursor("dest-1"), 42);
  EXPECT_FALSE(store_->cursor("dest-2").has_value());
  EXPECT_EQ(store_->series_count(), 1u);
  EXPECT_EQ(stats(key("P", {{"d", "1"}}).metric, kNow - 60, kNow, 60).at(0).aggregate.sum, 3);
  EXPECT_EQ(store_->list_metrics({})->metrics.size(), 1u);
  // New series continue the id sequence.
  store_->put({datum(key("Q"), kNow - 60, 1)});
  EXPECT_EQ(store_->list_metrics({})->metrics.size(), 2u);
}

TEST_F(MetricStoreTest, RefusesUnstorableKeysWithoutWriting) {
  EXPECT_THROW(store_->put({datum(key("ok"), kNow, 1), datum(key("bad\x01"), kNow, 1)}),
               std::invalid_argument);
  EXPECT_EQ(store_->series_count(), 0u);
}

TEST_F(MetricStoreTest, RefusesAnotherApplicationsDatabase) {
  store_.reset();
  std::string other = (dir_ / "other.db").string();
  {
    sqlite3* db = nullptr;
    sqlite3_open(other.c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  EXPECT_THROW(SqliteMetricStore::open(other, clock_), std::runtime_error);
}

TEST_F(MetricStoreTest, ConcurrentWritersAndReaders) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        store_->put({datum(key("C", {{"t", std::to_string(t)}}), kNow - 60, 1),
                     datum(key("All"), kNow - 60, 1)});
        (void)store_->list_metrics({});
        (void)stats(key("All").metric, kNow - 60, kNow, 60);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(stats(key("All").metric, kNow - 60, kNow, 60).at(0).aggregate.sum, 200);
  EXPECT_EQ(store_->series_count(), 5u);
}

TEST_F(MetricStoreTest, CompactorRunsPeriodicallyAndStops) {
  store_->put({datum(key("Z"), kNow - 2 * 3600, 4)});
  Compactor compactor(*store_, clock_, std::chrono::milliseconds(5));
  compactor.start();
  for (int i = 0; i < 2000 && compactor.runs() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  compactor.stop();
  EXPECT_GE(compactor.runs(), 2u);
  EXPECT_EQ(stats(key("Z").metric, kNow - 3 * 3600, kNow, 3600).at(0).aggregate.sum, 4);
  EXPECT_EQ(store_->compact(kNow).rows_packed, 0);  // already packed by the compactor
}

}  // namespace
}  // namespace mailtally::metrics
