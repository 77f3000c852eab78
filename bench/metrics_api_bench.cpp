// Google Benchmark for the CloudWatch read API above the store: a GetMetricStatistics or
// ListMetrics request decoded by the wire layer (JSON 1.0, as botocore sends it), run by the
// provider's handler and encoded as the response, without HTTP or SigV4. Same data sets as
// metrics_store_bench.cpp (15 days of one-minute data for one series; 100,000 series).
// Reports p50/p99 (microseconds) as counters.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

#include "metrics/sqlite_metric_store.hpp"
#include "services/cloudwatch.hpp"
#include "wire/codec.hpp"

namespace mailtally {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::int64_t kDay = 86400;

base::ManualClock& clock() {
  static base::ManualClock c{base::TimePoint(std::chrono::seconds(kNow))};
  return c;
}

struct World {
  std::unique_ptr<metrics::SqliteMetricStore> store;
  services::OperationTable table;
};

// The benchmark's database folder, removed at exit (after the store built later is closed).
const std::filesystem::path& bench_dir() {
  struct Dir {
    std::filesystem::path path;
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static Dir dir{std::filesystem::temp_directory_path() /
                 ("metrics_api_bench_" + std::to_string(::getpid()))};
  std::filesystem::create_directories(dir.path);
  return dir.path;
}

World& world() {
  static World w = [] {
    const auto& dir = bench_dir();
    World out;
    out.store = metrics::SqliteMetricStore::open((dir / "metrics.db").string(), clock());
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> latency(4.0, 0.6);
    metrics::SeriesKey key{metrics::MetricKey{"App", "Latency", {{"service", "api"}}},
                           "Milliseconds"};
    for (std::int64_t day = 15; day > 0; --day) {
      std::vector<metrics::Datum> batch;
      for (std::int64_t m = 0; m < 1440; ++m) {
        std::vector<double> values(5);
        for (auto& v : values) v = std::round(latency(rng));
        batch.push_back(metrics::Datum{key, double(kNow - day * kDay + m * 60),
                                       metrics::ValueList{values, {}}, 60});
      }
      out.store->put(batch);
    }
    std::vector<metrics::Datum> batch;
    for (int c = 0; c < 100000; ++c) {
      batch.push_back(metrics::Datum{
          metrics::SeriesKey{
              metrics::MetricKey{"AWS/SES", "Send", {{"campaign", "c" + std::to_string(c)}}},
              "Count"},
          double(kNow - 60), 1.0, 60});
      if (batch.size() == 1000) {
        out.store->put(batch);
        batch.clear();
      }
    }
    out.store->compact(kNow);
    services::register_cloudwatch(out.table, *out.store, clock());
    return out;
  }();
  return w;
}

void api_bench(benchmark::State& state, const char* operation, std::string body) {
  World& w = world();
  http::Request req;
  req.method = "POST";
  req.target = "/";
  req.headers.add("X-Amz-Target", std::string("GraniteServiceVersion20100801.") + operation);
  req.headers.add("Content-Type", "application/x-amz-json-1.0");
  req.body = std::move(body);
  auth::Identity who{{"AKID", "secret", "bench"}, "us-east-1", "monitoring"};
  std::vector<double> us;
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    auto route = wire::route(req, "monitoring");
    auto in = wire::decode_input(*route, req);
    services::CallContext ctx{who, req, "rid", *route->service};
    auto out = (*w.table.find(*route->service, operation))(ctx, *in);
    if (!out) {
      state.SkipWithError(out.error().message.c_str());
      break;
    }
    auto resp = wire::encode_result(*route, *out, "rid");
    bytes = resp.body.size();
    benchmark::DoNotOptimize(resp);
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[static_cast<std::size_t>(0.99 * (us.size() - 1))];
  state.counters["response_bytes"] = static_cast<double>(bytes);
}

std::string statistics_body(std::int64_t offset, const char* stats) {
  return R"({"Namespace":"App","MetricName":"Latency","Dimensions":[{"Name":"service",)"
         R"("Value":"api"}],"StartTime":)" +
         std::to_string(kNow - 15 * kDay + offset) + R"(,"EndTime":)" + std::to_string(kNow) +
         R"(,"Period":900,)" + stats + "}";
}

void BM_Api_GetMetricStatistics15Days(benchmark::State& s) {
  api_bench(s, "GetMetricStatistics",
            statistics_body(60, R"("Statistics":["Sum","Average","Maximum"])"));
}
void BM_Api_GetMetricStatistics15Days_p99(benchmark::State& s) {
  api_bench(s, "GetMetricStatistics", statistics_body(0, R"("ExtendedStatistics":["p99"])"));
}
void BM_Api_ListMetrics100k(benchmark::State& s) {
  api_bench(s, "ListMetrics", R"({"Namespace":"AWS/SES","MetricName":"Send"})");
}
BENCHMARK(BM_Api_GetMetricStatistics15Days)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Api_GetMetricStatistics15Days_p99)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Api_ListMetrics100k)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mailtally

BENCHMARK_MAIN();
