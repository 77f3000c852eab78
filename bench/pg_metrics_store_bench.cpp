// Google Benchmark for the PostgreSQL metrics store (PgMetricStore), against the server named
// by $MAILTALLY_TEST_PG (scripts/pg-test-server.sh start DIR prints it), a fresh database per
// run:
//   - PgIngest: put() of batches of 1000 datums (items/s = datums/s). Arg = distinct series
//     per batch (10: SES-like counts; 1000: spread). One transaction per put.
//   - PgIngestTwoNodes: the same with 10 series from two threads, each its own pool and store
//     (two nodes), into the SAME series and minutes: the row-lock contention of a cluster.
//   - PgStatistics15Days: one series, 15 days of one-minute data (5 values a minute), compacted,
//     read with Period 900 as metrics_store_bench does for SQLite: aligned start (5-minute
//     rollups), start one minute off (21,600 one-minute rows), with percentiles (sketches).
//   - PgListMetrics100k: 100,000 series; the first page (500) for namespace + name, the same
//     plus a dimension, a rare dimension alone, and no filter.
// Latency benchmarks report p50/p99 (microseconds) as counters.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "metrics/pg_metric_store.hpp"
#include "pg/test_database.hpp"

namespace mailtally::metrics {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

base::ManualClock& clock() {
  static base::ManualClock c{base::TimePoint(std::chrono::seconds(kNow))};
  return c;
}

pg::testing::TestDatabase& database() {
  static pg::testing::TestDatabase db;
  return db;
}

SeriesKey ses_key(int i) {
  return SeriesKey{MetricKey{"AWS/SES", "Send", {{"campaign", "c" + std::to_string(i)}}}, "Count"};
}

// A node: its own pool and store over the shared database.
struct Node {
  pg::Pool pool{database().url()};
  std::unique_ptr<PgMetricStore> store = PgMetricStore::open(pool, clock());
};

void ingest(benchmark::State& state, Node& node, int series) {
  std::vector<Datum> batch(1000);
  for (int i = 0; i < 1000; ++i) batch[i] = Datum{ses_key(i % series), 0, 1.0, 60};
  std::int64_t ts = kNow - 3600;
  for (auto _ : state) {
    for (auto& d : batch) d.timestamp = static_cast<double>(ts);
    node.store->put(batch);
    ++ts;  // one second per batch: a new minute every 60 batches
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}

void BM_PgIngest(benchmark::State& state) {
  static Node node;
  ingest(state, node, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_PgIngest)->Arg(10)->Arg(1000)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_PgIngestTwoNodes(benchmark::State& state) {
  static Node nodes[2];
  ingest(state, nodes[state.thread_index() % 2], 10);
}
BENCHMARK(BM_PgIngestTwoNodes)->Threads(2)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Records per-call latencies and reports p50/p99 in microseconds.
class Latencies {
 public:
  template <class F>
  void time(F f) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    samples_.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  void report(benchmark::State& state) {
    if (samples_.empty()) return;
    std::sort(samples_.begin(), samples_.end());
    auto at = [&](double q) {
      return samples_[static_cast<std::size_t>(q * (samples_.size() - 1))];
    };
    state.counters["p50_us"] = at(0.50);
    state.counters["p99_us"] = at(0.99);
  }

 private:
  std::vector<double> samples_;
};

constexpr std::int64_t kDay = 86400;

Node& fifteen_days() {
  static Node n;
  static const bool filled = [] {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> latency(4.0, 0.6);
    SeriesKey key{MetricKey{"App", "Latency", {{"service", "api"}}}, "Milliseconds"};
    for (std::int64_t day = 15; day > 0; --day) {
      std::vector<Datum> batch;
      for (std::int64_t m = 0; m < 1440; ++m) {
        std::vector<double> values(5);
        for (auto& v : values) v = std::round(latency(rng));
        batch.push_back(Datum{key, double(kNow - day * kDay + m * 60), ValueList{values, {}}, 60});
      }
      n.store->put(batch);
    }
    n.store->compact(kNow);
    return true;
  }();
  (void)filled;
  return n;
}

void statistics_bench(benchmark::State& state, std::int64_t offset, bool sketch) {
  PgMetricStore& store = *fifteen_days().store;
  StatisticsQuery q;
  q.metric = MetricKey{"App", "Latency", {{"service", "api"}}};
  q.start = kNow - 15 * kDay + offset;
  q.end = q.start + 15 * kDay;
  q.period = 900;
  q.with_sketch = sketch;
  Latencies lat;
  std::size_t points = 0;
  for (auto _ : state) {
    lat.time([&] {
      auto r = store.statistics(q);
      points = r.size();
      benchmark::DoNotOptimize(r);
    });
  }
  state.counters["datapoints"] = static_cast<double>(points);
  lat.report(state);
}
void BM_PgStatistics15Days_Aligned(benchmark::State& s) { statistics_bench(s, 0, false); }
void BM_PgStatistics15Days_MinuteRows(benchmark::State& s) { statistics_bench(s, 60, false); }
void BM_PgStatistics15Days_Percentiles(benchmark::State& s) { statistics_bench(s, 0, true); }
BENCHMARK(BM_PgStatistics15Days_Aligned)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PgStatistics15Days_MinuteRows)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PgStatistics15Days_Percentiles)->Unit(benchmark::kMicrosecond);

// 100,000 series: 10 metric names x 10,000 campaigns, each with a genre of 10.
Node& hundred_thousand() {
  static Node n;
  static const bool filled = [] {
    const char* names[] = {"Send",          "Delivery",    "Open",   "Click",
                           "Bounce",        "Complaint",   "Reject", "Rendering Failure",
                           "DeliveryDelay", "Subscription"};
    std::vector<Datum> batch;
    for (const char* name : names) {
      for (int c = 0; c < 10000; ++c) {
        batch.push_back(Datum{SeriesKey{MetricKey{"AWS/SES",
                                                  name,
                                                  {{"campaign", "c" + std::to_string(c)},
                                                   {"genre", "g" + std::to_string(c % 10)}}},
                                        "Count"},
                              double(kNow - 60), 1.0, 60});
        if (batch.size() == 1000) {
          n.store->put(batch);
          batch.clear();
        }
      }
    }
    n.store->compact(kNow);
    return true;
  }();
  (void)filled;
  return n;
}

void list_bench(benchmark::State& state, const ListFilter& f) {
  PgMetricStore& store = *hundred_thousand().store;
  Latencies lat;
  std::size_t n = 0;
  for (auto _ : state) {
    lat.time([&] {
      auto page = store.list_metrics(f);
      n = page->metrics.size();
      benchmark::DoNotOptimize(page);
    });
  }
  state.counters["series"] = static_cast<double>(store.series_count());
  state.counters["returned"] = static_cast<double>(n);
  lat.report(state);
}
void BM_PgListMetrics100k_NamespaceName(benchmark::State& s) {
  list_bench(s, ListFilter{.ns = "AWS/SES", .name = "Send"});
}
void BM_PgListMetrics100k_NameAndDimension(benchmark::State& s) {
  list_bench(
      s, ListFilter{.ns = "AWS/SES", .name = "Send", .dimensions = {{"genre", std::string("g7")}}});
}
void BM_PgListMetrics100k_RareDimensionOnly(benchmark::State& s) {
  list_bench(s, ListFilter{.dimensions = {{"campaign", std::string("c9999")}}});
}
void BM_PgListMetrics100k_All(benchmark::State& s) { list_bench(s, ListFilter{}); }
BENCHMARK(BM_PgListMetrics100k_NamespaceName)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PgListMetrics100k_NameAndDimension)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PgListMetrics100k_RareDimensionOnly)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PgListMetrics100k_All)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mailtally::metrics

BENCHMARK_MAIN();
