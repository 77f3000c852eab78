// Google Benchmark for the PostgreSQL metrics store (PgMetricStore), against the server named
// by $MAILTALLY_TEST_PG (scripts/pg-test-server.sh start DIR prints it), a fresh database per
// run:
//   - PgIngest: put() of batches of 1000 datums (items/s = datums/s). Arg = distinct series
//     per batch (10: SES-like counts; 1000: spread). One transaction per put.
//   - PgIngestTwoNodes: the same with 10 series from two threads, each its own pool and store
//     (two nodes), into the SAME series and minutes: the row-lock contention of a cluster.
#include <benchmark/benchmark.h>

#include <chrono>

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

}  // namespace
}  // namespace mailtally::metrics

BENCHMARK_MAIN();
