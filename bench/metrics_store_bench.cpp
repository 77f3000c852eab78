// Google Benchmark for the metrics store (src/metrics), single thread, file-backed SQLite in
// WAL mode under $TMPDIR:
//   - Ingest: put() batches of 1000 datums, as the SES publishing path and PutMetricData do;
//     items/s = datums/s. Arg = distinct series per batch (10: SES-like counts; 1000: spread).
//   - Statistics15Days: one series with 15 days of one-minute data (21,600 minutes, 5 values
//     each), compacted as the server does, read as GetMetricStatistics does with Period 900
//     (1,440 datapoints): aligned start (5-minute rollups), start one minute off (forces all
//     21,600 one-minute aggregates), and with percentiles (p99 needs the sketches).
//   - ListMetrics100k: 100,000 series; the first page (500) for a namespace + name filter,
//     the same plus a dimension filter, and a dimension-only filter over everything.
// Latency benchmarks report p50/p99 (microseconds) as counters.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

#include "metrics/sqlite_metric_store.hpp"

namespace mailtally::metrics {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::int64_t kDay = 86400;

// The benchmark's database folder, removed at exit (after the stores built later are closed).
const std::filesystem::path& bench_dir() {
  struct Dir {
    std::filesystem::path path;
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static Dir dir{std::filesystem::temp_directory_path() /
                 ("metrics_bench_" + std::to_string(::getpid()))};
  std::filesystem::create_directories(dir.path);
  return dir.path;
}

std::filesystem::path fresh_db(const std::string& name) {
  auto path = bench_dir() / (name + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix);
  }
  return path;
}

base::ManualClock& clock() {
  static base::ManualClock c{base::TimePoint(std::chrono::seconds(kNow))};
  return c;
}

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

SeriesKey ses_key(int i) {
  return SeriesKey{MetricKey{"AWS/SES", "Send", {{"campaign", "c" + std::to_string(i)}}}, "Count"};
}

void BM_Ingest(benchmark::State& state) {
  const int series = static_cast<int>(state.range(0));
  auto store =
      SqliteMetricStore::open(fresh_db("ingest" + std::to_string(series)).string(), clock());
  std::vector<Datum> batch(1000);
  for (int i = 0; i < 1000; ++i) batch[i] = Datum{ses_key(i % series), 0, 1.0, 60};
  std::int64_t ts = kNow - 3600;
  for (auto _ : state) {
    for (auto& d : batch) d.timestamp = static_cast<double>(ts);
    store->put(batch);
    ++ts;  // one second per batch: a new minute every 60 batches
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Ingest)->Arg(10)->Arg(1000)->Unit(benchmark::kMicrosecond);

// compact() packing recent rows: 10,000 series x 10 minutes per iteration (puts untimed);
// items/s = recent rows packed per second (each into minute, 5-minute and hourly chunks).
void BM_CompactPack(benchmark::State& state) {
  auto store = SqliteMetricStore::open(fresh_db("compact").string(), clock());
  std::int64_t hour = kNow - 48 * 3600;
  std::int64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Datum> batch;
    for (int c = 0; c < 10000; ++c) {
      for (int m = 0; m < 10; ++m) {
        batch.push_back(Datum{ses_key(c), double(hour + m * 60), 1.0, 60});
      }
      if (batch.size() >= 1000) {
        store->put(batch);
        batch.clear();
      }
    }
    hour += 3600;
    state.ResumeTiming();
    rows += store->compact(kNow).rows_packed;
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_CompactPack)->Unit(benchmark::kMillisecond)->Iterations(5);

SqliteMetricStore& fifteen_days() {
  static std::unique_ptr<SqliteMetricStore> store = [] {
    auto s = SqliteMetricStore::open(fresh_db("fifteen_days").string(), clock());
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
      s->put(batch);
    }
    s->compact(kNow);  // as the server does periodically: packs closed hours into chunks
    return s;
  }();
  return *store;
}

void statistics_bench(benchmark::State& state, std::int64_t offset, bool sketch) {
  SqliteMetricStore& store = fifteen_days();
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
void BM_Statistics15Days_Aligned(benchmark::State& s) { statistics_bench(s, 0, false); }
void BM_Statistics15Days_MinuteRows(benchmark::State& s) { statistics_bench(s, 60, false); }
void BM_Statistics15Days_Percentiles(benchmark::State& s) { statistics_bench(s, 0, true); }
BENCHMARK(BM_Statistics15Days_Aligned)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Statistics15Days_MinuteRows)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Statistics15Days_Percentiles)->Unit(benchmark::kMicrosecond);

// 100,000 series: 10 metric names x 10,000 campaigns, each with a genre of 10.
SqliteMetricStore& hundred_thousand() {
  static std::unique_ptr<SqliteMetricStore> store = [] {
    auto s = SqliteMetricStore::open(fresh_db("hundred_thousand").string(), clock());
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
          s->put(batch);
          batch.clear();
        }
      }
    }
    s->compact(kNow);
    return s;
  }();
  return *store;
}

void list_bench(benchmark::State& state, const ListFilter& f) {
  SqliteMetricStore& store = hundred_thousand();
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
void BM_ListMetrics100k_NamespaceName(benchmark::State& s) {
  list_bench(s, ListFilter{.ns = "AWS/SES", .name = "Send"});
}
void BM_ListMetrics100k_NameAndDimension(benchmark::State& s) {
  list_bench(
      s, ListFilter{.ns = "AWS/SES", .name = "Send", .dimensions = {{"genre", std::string("g7")}}});
}
void BM_ListMetrics100k_RareDimensionOnly(benchmark::State& s) {
  // Scans all 100,000 metrics to find the 10 with this campaign.
  list_bench(s, ListFilter{.dimensions = {{"campaign", std::string("c9999")}}});
}
BENCHMARK(BM_ListMetrics100k_NamespaceName)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ListMetrics100k_NameAndDimension)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ListMetrics100k_RareDimensionOnly)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mailtally::metrics

BENCHMARK_MAIN();
