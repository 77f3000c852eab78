// The contract every MetricStore + PublishingLedger implementation passes: put and read back
// through every resolution, exact dimension match, units, percentiles, ListMetrics filters and
// paging, retention after compact(), cursors, persistence, and the ledger's books.
//
// A typed, parameterised GoogleTest suite: a test binary includes this header once and
// instantiates it with a Backend:
//   struct Backend {
//     using Store = ...;  // a MetricStore and PublishingLedger
//     // A store over this backend's data (each call: the same data, as a reopen would see).
//     std::unique_ptr<Store> open(const base::Clock& clock);
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Name, MetricStoreContract, ::testing::Types<Backend>);
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "metrics/compactor.hpp"
#include "metrics/metric_store.hpp"
#include "metrics/publishing_ledger.hpp"
#include "metrics/rules.hpp"

namespace mailtally::metrics::contract {

using namespace std::chrono_literals;
inline constexpr std::int64_t kNow = 1'800'000'000;  // a whole hour

inline SeriesKey key(std::string name, std::vector<Dimension> dims = {},
                     std::string unit = "Count") {
  return SeriesKey{MetricKey{"App", std::move(name), std::move(dims)}, std::move(unit)};
}
inline Datum datum(SeriesKey k, double ts, double v, int resolution = 60) {
  return Datum{std::move(k), ts, v, resolution};
}

template <typename Backend>
class MetricStoreContract : public ::testing::Test {
 protected:
  void SetUp() override { store_ = backend_.open(clock_); }
  void TearDown() override { store_.reset(); }
  void reopen() {
    store_.reset();
    store_ = backend_.open(clock_);
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
  Backend backend_;
  std::unique_ptr<typename Backend::Store> store_;
};

TYPED_TEST_SUITE_P(MetricStoreContract);

TYPED_TEST_P(MetricStoreContract, PerMinuteAggregates) {
  this->store_->put({datum(key("Latency"), kNow - 600 + 5, 10),
                     datum(key("Latency"), kNow - 600 + 50, 30),
                     datum(key("Latency"), kNow - 540 + 1, 20)});
  auto r = this->stats(key("Latency").metric, kNow - 600, kNow, 60);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].timestamp, kNow - 600);
  EXPECT_EQ(r[0].aggregate.sample_count, 2);
  EXPECT_EQ(r[0].aggregate.sum, 40);
  EXPECT_EQ(r[0].aggregate.minimum, 10);
  EXPECT_EQ(r[0].aggregate.maximum, 30);
  EXPECT_EQ(r[0].unit, "Count");
  EXPECT_EQ(r[1].timestamp, kNow - 540);
  // One period over both minutes, read from the 5-minute rows.
  auto whole = this->stats(key("Latency").metric, kNow - 600, kNow, 600);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].aggregate.sample_count, 3);
  EXPECT_EQ(whole[0].aggregate.sum, 60);
}

TYPED_TEST_P(MetricStoreContract, PeriodsStartAtTheRequestedStart) {
  // Periods of 120 s starting at an odd minute: buckets [-540,-420) and [-420,-300).
  this->store_->put({datum(key("M"), kNow - 480, 1), datum(key("M"), kNow - 420, 2),
                     datum(key("M"), kNow - 360, 4)});
  auto r = this->stats(key("M").metric, kNow - 540, kNow - 300, 120);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].timestamp, kNow - 540);
  EXPECT_EQ(r[0].aggregate.sum, 1);
  EXPECT_EQ(r[1].timestamp, kNow - 420);
  EXPECT_EQ(r[1].aggregate.sum, 6);
}

TYPED_TEST_P(MetricStoreContract, ExactDimensionMatchAnyOrder) {
  std::vector<Dimension> both = {{"genre", "sf"}, {"campaign", "book"}};
  this->store_->put({datum(key("Send", both), kNow - 60, 1),
                     datum(key("Send", {{"campaign", "book"}}), kNow - 60, 5)});
  MetricKey two{"App", "Send", {{"campaign", "book"}, {"genre", "sf"}}};
  MetricKey one{"App", "Send", {{"campaign", "book"}}};
  MetricKey other{"App", "Send", {{"genre", "sf"}}};
  EXPECT_EQ(this->stats(two, kNow - 60, kNow, 60).at(0).aggregate.sum, 1);
  EXPECT_EQ(this->stats(one, kNow - 60, kNow, 60).at(0).aggregate.sum, 5);
  EXPECT_TRUE(this->stats(other, kNow - 60, kNow, 60).empty());
  EXPECT_TRUE(this->stats(MetricKey{"App", "Send", {}}, kNow - 60, kNow, 60).empty());
}

TYPED_TEST_P(MetricStoreContract, UnitsAreSeparateSeries) {
  this->store_->put(
      {datum(key("X", {}, "Count"), kNow - 60, 1), datum(key("X", {}, "Seconds"), kNow - 60, 2)});
  auto r = this->stats(key("X").metric, kNow - 60, kNow, 60);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].unit, "Count");
  EXPECT_EQ(r[1].unit, "Seconds");
  StatisticsQuery q{key("X").metric, std::string("Seconds"), kNow - 60, kNow, 60};
  auto only = this->store_->statistics(q);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0].aggregate.sum, 2);
  q.unit.reset();
  q.merge_units = true;
  auto merged = this->store_->statistics(q);
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0].aggregate.sum, 3);
  EXPECT_EQ(this->store_->series_count(), 2u);
}

TYPED_TEST_P(MetricStoreContract, ValuesCountsAndStatisticSets) {
  this->store_->put({Datum{key("V"), double(kNow - 60), ValueList{{1, 2, 3}, {1, 1, 8}}, 60},
                     Datum{key("V"), double(kNow - 60), StatisticSet{2, 10, 4, 6}, 60}});
  auto r = this->stats(key("V").metric, kNow - 60, kNow, 60, true);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].aggregate.sample_count, 12);
  EXPECT_EQ(r[0].aggregate.sum, 1 + 2 + 24 + 10);
  EXPECT_EQ(r[0].aggregate.minimum, 1);
  EXPECT_EQ(r[0].aggregate.maximum, 6);
  // The statistic set spans 4..6: percentiles are unavailable for the period.
  EXPECT_FALSE(r[0].aggregate.percentile(50).has_value());
}

TYPED_TEST_P(MetricStoreContract, PercentilesAcrossMinutesAndRollups) {
  std::vector<Datum> batch;
  for (int i = 1; i <= 100; ++i) batch.push_back(datum(key("L"), kNow - 3600 + i * 30, i));
  this->store_->put(batch);
  auto r = this->stats(key("L").metric, kNow - 3600, kNow, 3600, true);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NEAR(*r[0].aggregate.percentile(50), 50, 0.5);
  EXPECT_NEAR(*r[0].aggregate.percentile(99), 99, 1);
  EXPECT_EQ(*r[0].aggregate.percentile(100), 100);
  // Without the sketch, no percentiles.
  EXPECT_FALSE(this->stats(key("L").metric, kNow - 3600, kNow, 3600)[0].aggregate.percentile(50));
}

TYPED_TEST_P(MetricStoreContract, HighResolutionSeconds) {
  this->store_->put({datum(key("H"), kNow - 30 + 0.5, 1, 1), datum(key("H"), kNow - 29, 2, 1),
                     datum(key("H"), kNow - 20, 4, 1), datum(key("S"), kNow - 30, 8, 60)});
  auto r = this->stats(key("H").metric, kNow - 30, kNow, 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].timestamp, kNow - 30);
  EXPECT_EQ(r[0].aggregate.sum, 3);
  EXPECT_EQ(r[1].aggregate.sum, 4);
  // Standard-resolution data has no sub-minute rows.
  EXPECT_TRUE(this->stats(key("S").metric, kNow - 30, kNow, 10).empty());
  // Both resolutions land in the minute rows.
  EXPECT_EQ(this->stats(key("H").metric, kNow - 60, kNow, 60).at(0).aggregate.sum, 7);
}

TYPED_TEST_P(MetricStoreContract, CompactAppliesRetentionPerResolution) {
  using rules::kDay;
  this->store_->put(
      {datum(key("R"), kNow - 10, 1, 1), datum(key("D", {{"c", "1"}}), kNow - 10, 1)});
  // Data 20 days old: gone from the minute rows, still in 5-minute and hourly ones.
  this->clock_.set(base::TimePoint(std::chrono::seconds(kNow - 13 * kDay)));
  this->store_->put({datum(key("R"), kNow - 14 * kDay + 60, 2)});
  this->clock_.set(base::TimePoint(std::chrono::seconds(kNow + 6 * kDay)));
  auto report = this->store_->compact(kNow + 6 * kDay);
  EXPECT_GT(report.rows_deleted, 0);
  std::int64_t old = kNow - 14 * kDay;
  EXPECT_TRUE(this->stats(key("R").metric, old + 60, old + 120, 60).empty());  // minute rows
  EXPECT_EQ(this->stats(key("R").metric, old, old + 300, 300).at(0).aggregate.sum, 2);  // 5-minute
  EXPECT_EQ(this->stats(key("R").metric, old, old + 3600, 3600).at(0).aggregate.sum, 2);
  EXPECT_TRUE(this->stats(key("R").metric, kNow - 10, kNow, 1).empty());  // seconds: 3 hours
  EXPECT_EQ(this->stats(key("R").metric, kNow - 60, kNow, 60).at(0).aggregate.sum, 1);
  // 500 days later everything (and the metric itself) has expired.
  auto late = this->store_->compact(kNow + 500 * kDay);
  EXPECT_EQ(late.series_expired, 2);
  EXPECT_EQ(this->store_->series_count(), 0u);
  this->clock_.set(base::TimePoint(std::chrono::seconds(kNow + 500 * kDay)));
  EXPECT_TRUE(this->store_->list_metrics({.dimensions = {{"c", std::nullopt}}})->metrics.empty());
  this->store_->put({datum(key("D", {{"c", "1"}}), kNow + 500 * kDay, 1)});
  EXPECT_EQ(this->store_->list_metrics({.dimensions = {{"c", std::string("1")}}})->metrics.size(),
            1u);
  EXPECT_TRUE(this->stats(key("R").metric, old, old + 3600, 3600).empty());
}

// Reads give the same answers whether data sits in recent rows, in chunks, or in both.
TYPED_TEST_P(MetricStoreContract, PackingPreservesEveryReadAndLateDataMerges) {
  using rules::kDay;
  std::vector<Datum> batch;
  for (std::int64_t m = 0; m < 3 * 24 * 60; m += 7) {
    batch.push_back(datum(key("P"), double(kNow - 3 * kDay + m * 60 + 13), double(m % 50)));
  }
  for (int s = 0; s < 120; ++s) batch.push_back(datum(key("P"), double(kNow - 7200 + s), 1000, 1));
  this->store_->put(batch);
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
      for (const auto& p : this->stats(key("P").metric, r.start, r.end, r.period, true)) {
        one.emplace_back(p.timestamp, p.aggregate.sample_count, p.aggregate.sum,
                         p.aggregate.minimum, *p.aggregate.percentile(90));
      }
      all.push_back(std::move(one));
    }
    return all;
  };
  auto before = snapshot();
  auto report = this->store_->compact(kNow);
  EXPECT_GT(report.rows_packed, 0);
  EXPECT_EQ(snapshot(), before);
  // A late datum for an hour already packed lands in recent rows and is read with the chunks.
  this->store_->put({datum(key("P"), double(kNow - 2 * kDay + 30), 7)});
  auto late = this->stats(key("P").metric, kNow - 2 * kDay, kNow - 2 * kDay + 3600, 3600);
  auto expected = std::get<1>(before[0].at(24));
  EXPECT_EQ(late.at(0).aggregate.sample_count, expected + 1);
  this->store_->compact(kNow);
  EXPECT_EQ(this->stats(key("P").metric, kNow - 2 * kDay, kNow - 2 * kDay + 3600, 3600)
                .at(0)
                .aggregate.sample_count,
            expected + 1);
}

// Readers never see a half-packed state: chunks and recent rows come from one snapshot.
TYPED_TEST_P(MetricStoreContract, ReadsDuringCompactionStayConsistent) {
  using rules::kDay;
  for (int round = 0; round < 3; ++round) {
    std::vector<Datum> batch;
    for (std::int64_t m = 0; m < 4 * 24 * 60; m += 5) {
      batch.push_back(datum(key("K"), double(kNow - 4 * kDay + m * 60), 1));
    }
    this->store_->put(batch);
    const double expected = static_cast<double>(batch.size()) * (round + 1);
    std::atomic<bool> done{false};
    std::atomic<int> bad{0};
    std::atomic<int> reads{0};
    std::thread reader([&] {
      while (!done) {
        ++reads;
        double sum = 0;
        for (const auto& p : this->stats(key("K").metric, kNow - 4 * kDay, kNow, 3600)) {
          sum += p.aggregate.sum;
        }
        if (sum != expected) ++bad;
      }
    });
    while (reads == 0) std::this_thread::yield();
    this->store_->compact(kNow + round);
    done = true;
    reader.join();
    EXPECT_EQ(bad, 0);
  }
}

TYPED_TEST_P(MetricStoreContract, ListMetricsFilters) {
  this->store_->put(
      {datum(key("Send", {{"campaign", "a"}}), kNow, 1),
       datum(key("Send", {{"campaign", "b"}, {"genre", "x"}}), kNow, 1),
       datum(key("Open", {{"campaign", "a"}}), kNow, 1), datum(key("Send"), kNow, 1),
       Datum{SeriesKey{MetricKey{"Other", "Send", {}}, "Count"}, double(kNow), 1.0, 60}});
  auto list = [&](ListFilter f) { return this->store_->list_metrics(f)->metrics; };
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

TYPED_TEST_P(MetricStoreContract, ListMetricsRecentlyActiveAndTwoWeeks) {
  this->store_->put({datum(key("Old"), kNow, 1)});
  this->clock_.advance(4h);
  this->store_->put({datum(key("New"), kNow + 4 * 3600, 1)});
  EXPECT_EQ(this->store_->list_metrics({})->metrics.size(), 2u);
  auto active = this->store_->list_metrics({.recently_active = true})->metrics;
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].name, "New");
  this->clock_.advance(std::chrono::hours(24 * 14));
  EXPECT_EQ(this->store_->list_metrics({})->metrics.size(), 1u);
}

TYPED_TEST_P(MetricStoreContract, ListMetricsPaging) {
  std::vector<Datum> batch;
  for (int i = 0; i < 1203; ++i) {
    batch.push_back(datum(key("Send", {{"id", std::to_string(i)}}), kNow, 1));
  }
  this->store_->put(batch);
  std::set<std::string> seen;
  ListFilter f{.ns = "App", .name = "Send"};
  int pages = 0;
  for (;;) {
    auto page = this->store_->list_metrics(f);
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
  EXPECT_FALSE(this->store_->list_metrics(f).has_value());
}

TYPED_TEST_P(MetricStoreContract, PersistsAcrossReopen) {
  this->store_->put({datum(key("P", {{"d", "1"}}), kNow - 60, 3)}, CursorAdvance{"dest-1", 42});
  this->store_.reset();
  this->reopen();
  EXPECT_EQ(this->store_->cursor("dest-1"), 42);
  EXPECT_FALSE(this->store_->cursor("dest-2").has_value());
  EXPECT_EQ(this->store_->series_count(), 1u);
  EXPECT_EQ(this->stats(key("P", {{"d", "1"}}).metric, kNow - 60, kNow, 60).at(0).aggregate.sum, 3);
  EXPECT_EQ(this->store_->list_metrics({})->metrics.size(), 1u);
  // New series continue the id sequence.
  this->store_->put({datum(key("Q"), kNow - 60, 1)});
  EXPECT_EQ(this->store_->list_metrics({})->metrics.size(), 2u);
}

TYPED_TEST_P(MetricStoreContract, RefusesUnstorableKeysWithoutWriting) {
  EXPECT_THROW(this->store_->put({datum(key("ok"), kNow, 1), datum(key("bad\x01"), kNow, 1)}),
               std::invalid_argument);
  EXPECT_EQ(this->store_->series_count(), 0u);
}

TYPED_TEST_P(MetricStoreContract, ConcurrentWritersAndReaders) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        this->store_->put({datum(key("C", {{"t", std::to_string(t)}}), kNow - 60, 1),
                           datum(key("All"), kNow - 60, 1)});
        (void)this->store_->list_metrics({});
        (void)this->stats(key("All").metric, kNow - 60, kNow, 60);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(this->stats(key("All").metric, kNow - 60, kNow, 60).at(0).aggregate.sum, 200);
  EXPECT_EQ(this->store_->series_count(), 5u);
}

TYPED_TEST_P(MetricStoreContract, CompactorRunsPeriodicallyAndStops) {
  this->store_->put({datum(key("Z"), kNow - 2 * 3600, 4)});
  Compactor compactor(*this->store_, this->clock_, std::chrono::milliseconds(5));
  compactor.start();
  for (int i = 0; i < 2000 && compactor.runs() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  compactor.stop();
  EXPECT_GE(compactor.runs(), 2u);
  EXPECT_EQ(this->stats(key("Z").metric, kNow - 3 * 3600, kNow, 3600).at(0).aggregate.sum, 4);
  EXPECT_EQ(this->store_->compact(kNow).rows_packed, 0);  // already packed by the compactor
}

// ---- PublishingLedger ----

TYPED_TEST_P(MetricStoreContract, LedgerClaimsDropsAndCoverage) {
  auto& s = *this->store_;
  LedgerWrite l;
  l.owner = "cs/cw";
  l.claims = {0, 1};
  l.drops = {{"non_ascii", 5, "m5", "d", double(kNow - 5)},
             {"non_ascii", 6, "m6", "", double(kNow - 4)},
             {"cap_reached", 7, "m7", "", double(kNow - 3)}};
  l.fingerprint = "f1";
  l.live = SeqRange{0, 7};
  CursorAdvance advance{"sink:cs/cw", 7};
  s.put_published({datum(key("Send", {{"d", "1"}}), kNow - 60, 1), datum(key("Open"), kNow - 60, 1),
                   datum(key("Click"), kNow - 60, 1)},
                  &advance, l);
  EXPECT_EQ(s.cursor("sink:cs/cw"), 7);
  EXPECT_EQ(this->stats(key("Click").metric, kNow - 60, kNow, 60).at(0).aggregate.sum, 1);
  EXPECT_EQ(s.claimed("cs/cw", {key("Open"), key("Click"), key("Send", {{"d", "1"}}), key("New")}),
            (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(s.claimed("other", {key("Open")}), std::vector<bool>{false});
  EXPECT_EQ(s.owned_series("cs/cw"),
            (std::vector<SeriesKey>{key("Send", {{"d", "1"}}), key("Open")}));
  auto counts = s.drop_counts();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0].reason, "cap_reached");
  EXPECT_EQ(counts[1].reason, "non_ascii");
  EXPECT_EQ(counts[1].count, 2);
  EXPECT_EQ(counts[1].last_at, double(kNow - 4));
  auto examples = s.drop_examples("cs/cw", "non_ascii", 10);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].seq, 6);
  EXPECT_EQ(examples[1].message_id, "m5");
  EXPECT_EQ(examples[1].dimension, "d");

  // A following live batch extends the range; a replay adds its own.
  LedgerWrite next;
  next.owner = "cs/cw";
  next.fingerprint = "f1";
  next.live = SeqRange{7, 9};
  for (int i = 0; i < 12; ++i) {
    next.drops.push_back({"non_ascii", 100 + i, "x", "", double(kNow)});
  }
  CursorAdvance advance9{"sink:cs/cw", 9};
  s.put_published({}, &advance9, next);
  LedgerWrite replay;
  replay.owner = "cs/cw";
  replay.fingerprint = "f1";
  replay.replayed = {SeqRange{20, 25}};
  replay.claims = {0};
  s.put_published({datum(key("Click"), kNow - 60, 1)}, nullptr, replay);
  EXPECT_EQ(s.cursor("sink:cs/cw"), 9);
  EXPECT_EQ(s.coverage("cs/cw", "f1"), (std::vector<SeqRange>{{0, 9}, {20, 25}}));
  EXPECT_TRUE(s.coverage("cs/cw", "f2").empty());
  EXPECT_EQ(s.owned_series("cs/cw").size(), 3u);
  EXPECT_EQ(s.drop_counts()[1].count, 14);
  auto kept = s.drop_examples("cs/cw", "non_ascii", 100);
  ASSERT_EQ(kept.size(), 10u);
  EXPECT_EQ(kept.front().seq, 111);
  EXPECT_EQ(kept.back().seq, 102);
  EXPECT_EQ(s.drop_examples("cs/cw", "non_ascii", 3).size(), 3u);
  EXPECT_EQ(this->stats(key("Click").metric, kNow - 60, kNow, 60).at(0).aggregate.sum, 2);
}

TYPED_TEST_P(MetricStoreContract, LedgerOwnersCapsAndSeriesListings) {
  auto& s = *this->store_;
  LedgerWrite b;
  b.owner = "b/x";
  b.claims = {0};
  s.put_published({datum(key("Send", {{"z", "1"}}), kNow - 60, 1)}, nullptr, b);
  LedgerWrite a;
  a.owner = "a/x";
  a.claims = {0, 1};
  s.put_published(
      {datum(key("Send"), kNow - 60, 1), datum(key("Send", {{"z", "1"}}, "Seconds"), kNow - 60, 1),
       datum(key("Open"), kNow - 60, 1)},
      nullptr, a);
  EXPECT_EQ(s.owners(), (std::vector<std::string>{"a/x", "b/x"}));
  // By metric in creation order, then its units in creation order.
  EXPECT_EQ(s.series_named("App", "Send"),
            (std::vector<SeriesKey>{key("Send", {{"z", "1"}}), key("Send", {{"z", "1"}}, "Seconds"),
                                    key("Send")}));
  EXPECT_EQ(s.all_series().size(), 4u);
  EXPECT_EQ(s.all_series().back(), key("Open"));
  EXPECT_TRUE(s.series_named("App", "Nope").empty());
  s.set_cap("b/x", 5);
  s.set_cap("a/x", 3);
  s.set_cap("a/x", 4);
  EXPECT_EQ(s.caps(), (std::vector<std::pair<std::string, std::int64_t>>{{"a/x", 4}, {"b/x", 5}}));
  s.set_cap("a/x", std::nullopt);
  EXPECT_EQ(s.caps(), (std::vector<std::pair<std::string, std::int64_t>>{{"b/x", 5}}));
  EXPECT_TRUE(covered({{0, 9}, {20, 25}}, 21));
  EXPECT_FALSE(covered({{0, 9}, {20, 25}}, 20));
}

REGISTER_TYPED_TEST_SUITE_P(MetricStoreContract, PerMinuteAggregates,
                            PeriodsStartAtTheRequestedStart, ExactDimensionMatchAnyOrder,
                            UnitsAreSeparateSeries, ValuesCountsAndStatisticSets,
                            PercentilesAcrossMinutesAndRollups, HighResolutionSeconds,
                            CompactAppliesRetentionPerResolution,
                            PackingPreservesEveryReadAndLateDataMerges,
                            ReadsDuringCompactionStayConsistent, ListMetricsFilters,
                            ListMetricsRecentlyActiveAndTwoWeeks, ListMetricsPaging,
                            PersistsAcrossReopen, RefusesUnstorableKeysWithoutWriting,
                            ConcurrentWritersAndReaders, CompactorRunsPeriodicallyAndStops,
                            LedgerClaimsDropsAndCoverage, LedgerOwnersCapsAndSeriesListings);

}  // namespace mailtally::metrics::contract
