// Google Benchmark for the SES publishing path's sink (src/destinations): CloudWatchSink::apply
// with batches of 1000 datapoints (10 series, one destination), as the event dispatcher calls
// it — datapoints, ownership checks, the live coverage range and the cursor in one transaction.
// Compare with metrics_store_bench's BM_Ingest/10 (the bare store put of the same batch).
// Arg: 0 without a series cap, 1 with a cap (the cap is not reached).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "destinations/cloudwatch_sink.hpp"
#include "metrics/sqlite_metric_store.hpp"

namespace mailtally::destinations {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

void BM_SinkApply(benchmark::State& state) {
  auto dir = std::filesystem::temp_directory_path() /
             ("sink_bench_" + std::to_string(::getpid()) + "_" + std::to_string(state.range(0)));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  base::ManualClock clock{base::TimePoint(std::chrono::seconds(kNow))};
  {
    auto store = metrics::SqliteMetricStore::open((dir / "metrics.db").string(), clock);
    SinkOptions options;
    if (state.range(0)) options.default_cap = 1000;
    CloudWatchSink sink(*store, *store, clock, options);
    std::vector<domain::Datapoint> batch(1000);
    for (int i = 0; i < 1000; ++i) {
      batch[i].metric_name = "Send";
      batch[i].dimensions = {{"campaign", "c" + std::to_string(i % 10)}};
      batch[i].seq = i;
      batch[i].message_id = "m";
    }
    std::int64_t seq = 0;
    double ts = kNow - 3600;
    for (auto _ : state) {
      for (auto& p : batch) p.timestamp = ts;
      sink.apply("cs/cw", seq + 1000, batch, {}, {"fingerprint", seq});
      seq += 1000;
      ts += 1;
    }
    state.SetItemsProcessed(state.iterations() * 1000);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SinkApply)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mailtally::destinations

BENCHMARK_MAIN();
