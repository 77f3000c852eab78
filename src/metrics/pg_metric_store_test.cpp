// PgMetricStore: the MetricStore contract (metric_store_contract.hpp, the same cases as the
// SQLite store) on a fresh database per test, plus several nodes sharing one database: two
// store objects on two pools behave as two nodes.
#include "metrics/pg_metric_store.hpp"

#include <gtest/gtest.h>

#include <barrier>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include "metrics/metric_store_contract.hpp"
#include "metrics/sqlite_metric_store.hpp"
#include "metrics/statistic.hpp"
#include "pg/test_database.hpp"

namespace mailtally::metrics::contract {
namespace {

class PgBackend {
 public:
  using Store = PgMetricStore;
  std::unique_ptr<Store> open(const base::Clock& clock) {
    return PgMetricStore::open(pool_, clock);
  }

 private:
  pg::testing::TestDatabase db_;
  pg::Pool pool_{db_.url()};
};

INSTANTIATE_TYPED_TEST_SUITE_P(Pg, MetricStoreContract, ::testing::Types<PgBackend>);

// Two nodes: one database, a pool and a store each.
class PgMetricNodes : public ::testing::Test {
 protected:
  std::vector<PeriodStatistics> stats(PgMetricStore& s, const MetricKey& m, std::int64_t start,
                                      std::int64_t end, std::int64_t period, bool sketch = true) {
    StatisticsQuery q;
    q.metric = m;
    q.start = start;
    q.end = end;
    q.period = period;
    q.with_sketch = sketch;
    return s.statistics(q);
  }

  base::ManualClock clock_{base::TimePoint(std::chrono::seconds(kNow))};
  pg::testing::TestDatabase db_;
  pg::Pool pool_a_{db_.url()};
  pg::Pool pool_b_{db_.url()};
  std::unique_ptr<PgMetricStore> a_ = PgMetricStore::open(pool_a_, clock_);
  std::unique_ptr<PgMetricStore> b_ = PgMetricStore::open(pool_b_, clock_);
};

// Both nodes put into the same series and minutes (and create the same new series) at once:
// every total is exact on both nodes, before and after compactions racing with the puts.
TEST_F(PgMetricNodes, ConcurrentPutsIntoTheSameSeriesGiveExactTotals) {
  constexpr int kThreadsPerNode = 2;
  constexpr int kRounds = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 2 * kThreadsPerNode; ++t) {
    PgMetricStore& node = t % 2 == 0 ? *a_ : *b_;
    threads.emplace_back([&, t] {
      try {
        for (int r = 0; r < kRounds; ++r) {
          std::vector<Datum> batch;
          for (int m = 0; m < 5; ++m) {
            // value t*1000 + r: distinct per thread and round (Min/Max/percentiles exact).
            const double v = t * 1000 + r;
            batch.push_back(datum(key("Shared"), kNow - 600 + m * 60 + (r % 60), v));
            batch.push_back(datum(key("Fine"), kNow - 60 + (r % 30), 1, 1));
          }
          batch.push_back(datum(key("New", {{"round", std::to_string(r)}}), kNow - 60, 1));
          node.put(batch);
          if (r % 10 == 9) node.compact(kNow + 600);
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures, 0);
  const double per_minute = 2 * kThreadsPerNode * kRounds;
  double sum = 0;
  for (int t = 0; t < 2 * kThreadsPerNode; ++t) {
    for (int r = 0; r < kRounds; ++r) sum += t * 1000 + r;
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (PgMetricStore* node : {a_.get(), b_.get()}) {
      auto minutes = stats(*node, key("Shared").metric, kNow - 600, kNow - 300, 60);
      ASSERT_EQ(minutes.size(), 5u);
      for (const auto& p : minutes) {
        EXPECT_EQ(p.aggregate.sample_count, per_minute);
        EXPECT_EQ(p.aggregate.sum, sum);
        EXPECT_EQ(p.aggregate.minimum, 0);
        EXPECT_EQ(p.aggregate.maximum, 3000 + kRounds - 1);
        // No sketch merge lost (they are merged in C++ under the row lock), and percentiles
        // within the sketch's 1 % once past its exact range.
        EXPECT_EQ(p.aggregate.sketch.total(), per_minute);
        EXPECT_NEAR(*p.aggregate.percentile(100), 3000 + kRounds - 1, 0.01 * 3039);
        EXPECT_NEAR(*p.aggregate.percentile(50), 1000 + kRounds - 1, 0.01 * 1039);
      }
      auto hour = stats(*node, key("Shared").metric, kNow - 3600, kNow, 3600);
      ASSERT_EQ(hour.size(), 1u);
      EXPECT_EQ(hour[0].aggregate.sample_count, 5 * per_minute);
      EXPECT_EQ(hour[0].aggregate.sum, 5 * sum);
      auto fine = stats(*node, key("Fine").metric, kNow - 60, kNow, 60);
      ASSERT_EQ(fine.size(), 1u);
      EXPECT_EQ(fine[0].aggregate.sample_count, 5 * per_minute);
      double seconds = 0;
      for (const auto& p : stats(*node, key("Fine").metric, kNow - 60, kNow, 1)) {
        seconds += p.aggregate.sample_count;
      }
      EXPECT_EQ(seconds, 5 * per_minute);
      EXPECT_EQ(node->series_count(), 2u + kRounds);
      EXPECT_EQ(node->list_metrics({.name = "New"})->metrics.size(), std::size_t{kRounds});
    }
    a_->compact(kNow + 600);  // everything rolled up: same answers
  }
}

// Both nodes apply the same batch with the same cursor advance at the same moment, round after
// round: each batch is applied exactly once.
TEST_F(PgMetricNodes, CursorRaceAppliesEachBatchOnce) {
  constexpr int kRounds = 60;
  std::barrier sync(2);
  auto node = [&](PgMetricStore& store) {
    for (int r = 1; r <= kRounds; ++r) {
      sync.arrive_and_wait();
      store.put({datum(key("Published"), kNow - 60, 1)}, CursorAdvance{"sink:cs/cw", r});
    }
  };
  std::thread ta(node, std::ref(*a_));
  std::thread tb(node, std::ref(*b_));
  ta.join();
  tb.join();
  EXPECT_EQ(a_->cursor("sink:cs/cw"), kRounds);
  EXPECT_EQ(b_->cursor("sink:cs/cw"), kRounds);
  auto r = stats(*b_, key("Published").metric, kNow - 60, kNow, 60);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].aggregate.sample_count, kRounds);
}

// A stale advance (the cursor is already there or past it) applies nothing, ledger included.
TEST_F(PgMetricNodes, StaleAdvanceAppliesNothing) {
  a_->put({datum(key("P"), kNow - 60, 1)}, CursorAdvance{"c", 5});
  b_->put({datum(key("P"), kNow - 60, 1)}, CursorAdvance{"c", 5});
  LedgerWrite l;
  l.owner = "cs/cw";
  l.claims = {0};
  l.drops = {{"non_ascii", 4, "m", "", double(kNow)}};
  CursorAdvance old{"c", 3};
  b_->put_published({datum(key("Q"), kNow - 60, 1)}, &old, l);
  EXPECT_EQ(a_->cursor("c"), 5);
  EXPECT_EQ(stats(*a_, key("P").metric, kNow - 60, kNow, 60).at(0).aggregate.sum, 1);
  EXPECT_TRUE(stats(*a_, key("Q").metric, kNow - 60, kNow, 60).empty());
  EXPECT_TRUE(a_->drop_counts().empty());
  EXPECT_TRUE(a_->owners().empty());
  CursorAdvance next{"c", 6};
  b_->put_published({datum(key("Q"), kNow - 60, 1)}, &next, l);
  EXPECT_EQ(a_->cursor("c"), 6);
  EXPECT_EQ(a_->owned_series("cs/cw"), std::vector<SeriesKey>{key("Q")});
}

// Compactions started on both nodes at once run one after the other: every recent row is
// rolled up exactly once and the answers do not change.
TEST_F(PgMetricNodes, CompactionsOnTwoNodesRollUpEachRowOnce) {
  std::vector<Datum> batch;
  for (int s = 0; s < 10; ++s) {
    for (int m = 0; m < 30; ++m) {
      batch.push_back(datum(key("C", {{"s", std::to_string(s)}}), kNow - 7200 + m * 60, m));
    }
  }
  a_->put(batch);
  auto before = stats(*b_, key("C", {{"s", "3"}}).metric, kNow - 7200, kNow, 300);
  CompactionReport ra, rb;
  std::thread ta([&] { ra = a_->compact(kNow); });
  std::thread tb([&] { rb = b_->compact(kNow); });
  ta.join();
  tb.join();
  EXPECT_EQ(ra.rows_packed + rb.rows_packed, 300);
  auto after = stats(*a_, key("C", {{"s", "3"}}).metric, kNow - 7200, kNow, 300);
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].timestamp, before[i].timestamp);
    EXPECT_EQ(after[i].aggregate.sample_count, before[i].aggregate.sample_count);
    EXPECT_EQ(after[i].aggregate.sum, before[i].aggregate.sum);
    EXPECT_EQ(after[i].aggregate.percentile(50), before[i].aggregate.percentile(50));
  }
}

// What one node writes, the other lists and reads at once (no per-node catalogue).
TEST_F(PgMetricNodes, SeriesAndLedgerSeenByTheOtherNode) {
  EXPECT_EQ(b_->series_count(), 0u);
  a_->put({datum(key("Send", {{"campaign", "x"}}), kNow - 60, 3)});
  EXPECT_EQ(b_->series_count(), 1u);
  auto listed = b_->list_metrics({.dimensions = {{"campaign", std::string("x")}}});
  ASSERT_EQ(listed->metrics.size(), 1u);
  EXPECT_EQ(listed->metrics[0], key("Send", {{"campaign", "x"}}).metric);
  b_->put({datum(key("Send", {{"campaign", "x"}}), kNow - 60, 4)});
  EXPECT_EQ(a_->series_count(), 1u);
  EXPECT_EQ(
      stats(*a_, key("Send", {{"campaign", "x"}}).metric, kNow - 60, kNow, 60).at(0).aggregate.sum,
      7);
  a_->set_cap("cs/cw", 9);
  EXPECT_EQ(b_->caps().at(0).second, 9);
}

// The same data (values, value lists, statistic sets, high resolution, late data after a
// compaction) in both stores: every query answers identically, percentiles included. Values
// are multiples of 0.5 so sums are exact whatever order the stores add them in.
TEST(PgMetricStoreVsSqlite, IdenticalAnswersForIdenticalData) {
  base::ManualClock clock{base::TimePoint(std::chrono::seconds(kNow))};
  pg::testing::TestDatabase db;
  pg::Pool pool(db.url());
  auto pg_store = PgMetricStore::open(pool, clock);
  const auto dir =
      std::filesystem::temp_directory_path() / ("pg_vs_sqlite_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto sqlite_store = SqliteMetricStore::open((dir / "metrics.db").string(), clock);
  std::vector<MetricStore*> stores = {pg_store.get(), sqlite_store.get()};

  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> value(3.0, 1.0);
  auto half = [&] { return std::round(value(rng) * 2) / 2; };
  const std::vector<SeriesKey> keys = {key("L", {{"svc", "api"}}, "Milliseconds"),
                                       key("L", {{"svc", "api"}}, "Seconds"),
                                       key("Q", {{"b", "2"}, {"a", "1"}})};
  auto random_batch = [&](std::int64_t from, std::int64_t span, int n) {
    std::vector<Datum> batch;
    for (int i = 0; i < n; ++i) {
      Datum d;
      d.series = keys[rng() % keys.size()];
      d.timestamp = double(from + static_cast<std::int64_t>(rng() % span)) + 0.25;
      switch (rng() % 4) {
        case 0:
          d.value = ValueList{{half(), half(), half()}, {1, 2, 3}};
          break;
        case 1: {
          const double v = half();
          d.value = StatisticSet{1 + double(rng() % 3), v, v, v};  // identical values
          break;
        }
        default:
          d.value = half();
      }
      if (d.timestamp > double(kNow - 3 * 3600) && rng() % 2 == 0) d.storage_resolution = 1;
      batch.push_back(std::move(d));
    }
    return batch;
  };
  for (int b = 0; b < 8; ++b) {
    auto batch = random_batch(kNow - 3 * rules::kDay, 3 * rules::kDay, 400);
    for (MetricStore* s : stores) s->put(batch);
  }
  for (MetricStore* s : stores) s->compact(kNow);
  auto late = random_batch(kNow - 2 * rules::kDay, 2 * rules::kDay, 300);  // into packed hours
  for (MetricStore* s : stores) s->put(late);

  struct Read {
    std::int64_t start, end, period;
  };
  const Read reads[] = {{kNow - 3 * rules::kDay, kNow, 3600},
                        {kNow - 3 * rules::kDay, kNow, 86400},
                        {kNow - 2 * rules::kDay, kNow, 300},
                        {kNow - rules::kDay + 60, kNow, 900},
                        {kNow - 6 * 3600, kNow, 60},
                        {kNow - 7200 + 60, kNow, 120},
                        {kNow - 3600, kNow, 1},
                        {kNow - 3600, kNow, 10},
                        {kNow - 3600, kNow - 1800, 30}};
  const std::vector<Statistic> percentiles = {*parse_statistic("p50"), *parse_statistic("p99"),
                                              *parse_statistic("p99.9")};
  int compared = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& k : {keys[0].metric, keys[2].metric}) {
      for (const Read& r : reads) {
        for (int variant = 0; variant < 3; ++variant) {
          StatisticsQuery q;
          q.metric = k;
          q.start = r.start;
          q.end = r.end;
          q.period = r.period;
          q.with_sketch = true;
          if (variant == 1) q.merge_units = true;
          if (variant == 2) q.unit = "Seconds";
          auto want = sqlite_store->statistics(q);
          auto got = pg_store->statistics(q);
          ASSERT_EQ(got.size(), want.size()) << r.start << " " << r.period << " " << variant;
          for (std::size_t i = 0; i < got.size(); ++i) {
            SCOPED_TRACE(testing::Message() << "period " << r.period << " at " << want[i].timestamp
                                            << " variant " << variant << " pass " << pass);
            EXPECT_EQ(got[i].timestamp, want[i].timestamp);
            EXPECT_EQ(got[i].unit, want[i].unit);
            EXPECT_EQ(got[i].aggregate.sample_count, want[i].aggregate.sample_count);
            EXPECT_EQ(got[i].aggregate.sum, want[i].aggregate.sum);
            EXPECT_EQ(got[i].aggregate.minimum, want[i].aggregate.minimum);
            EXPECT_EQ(got[i].aggregate.maximum, want[i].aggregate.maximum);
            for (const auto& p : percentiles) {
              EXPECT_EQ(statistic_value(got[i].aggregate, p),
                        statistic_value(want[i].aggregate, p));
            }
            ++compared;
          }
        }
      }
    }
    for (MetricStore* s : stores) s->compact(kNow + 600);  // second pass: late data rolled up
  }
  EXPECT_GT(compared, 1000);
  EXPECT_EQ(pg_store->list_metrics({})->metrics, sqlite_store->list_metrics({})->metrics);
  EXPECT_EQ(pg_store->series_count(), sqlite_store->series_count());
  sqlite_store.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mailtally::metrics::contract
