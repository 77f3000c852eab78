// Fuzzes the local metrics endpoints (services/local_metrics_api.hpp): query strings, JSON
// bodies and paths of /_mailtally/metrics/* and /metrics, over real stores in a temp dir with
// a configuration set, a CloudWatch destination and a few series. Never crashes; every answer
// is a status the endpoints document, with a JSON body except /metrics.
// Input: byte 0 picks the method, then "<target>\n<body>".
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "destinations/cloudwatch_sink.hpp"
#include "metrics/sqlite_metric_store.hpp"
#include "services/local_metrics_api.hpp"
#include "storage/sqlite/sending_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace {

using namespace mailtally;

struct World {
  base::ManualClock clock{base::TimePoint(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<storage::SqliteStore> config;
  std::unique_ptr<storage::SqliteSendingStore> events;
  std::unique_ptr<metrics::SqliteMetricStore> metrics;
  std::unique_ptr<destinations::CloudWatchSink> sink;
  services::GatewayMetrics gateway;
  std::unique_ptr<services::LocalMetricsContext> context;

  World() {
    auto dir = std::filesystem::temp_directory_path() /
               ("mt-fuzz-local-metrics-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    config = storage::SqliteStore::open((dir / "mailtally.db").string());
    events = storage::SqliteSendingStore::open((dir / "mailtally.db").string());
    metrics = metrics::SqliteMetricStore::open((dir / "metrics.db").string(), clock);
    destinations::SinkOptions options;
    options.default_cap = 5;
    sink = std::make_unique<destinations::CloudWatchSink>(*metrics, *metrics, clock, options);
    domain::ConfigurationSetRecord set;
    set.set.name = "cs";
    domain::EventDestination d;
    d.name = "cw";
    d.enabled = true;
    d.matching_event_types = {domain::EventType::Send};
    d.cloudwatch = domain::CloudWatchDestination{{{"campaign", {}, "none"}}};
    set.destinations.push_back(d);
    (void)config->create_configuration_set(set, 10000);
    std::vector<domain::Datapoint> points;
    for (const char* c : {"a", "b", "c"}) {
      domain::Datapoint p;
      p.metric_name = "Send";
      p.dimensions = {{"campaign", c}, {"genre", "x"}};
      p.timestamp = 1'800'000'000 - 30;
      points.push_back(p);
    }
    sink->apply("cs/cw", 1, points, {{1, domain::DropReason::NonAscii, "campaign", "m", 0}});
    context = std::make_unique<services::LocalMetricsContext>(services::LocalMetricsContext{
        *events, *config, *metrics, *metrics, *sink, &gateway, clock, 0.3});
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  if (size == 0) return 0;
  static const char* kMethods[] = {"GET", "PUT", "POST", "HEAD", "DELETE"};
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  http::Request req;
  req.method = kMethods[data[0] % 5];
  auto nl = input.find('\n');
  req.target = input.substr(0, nl);
  if (nl != std::string::npos) req.body = input.substr(nl + 1);
  if (!services::is_local_metrics_request(req)) return 0;
  http::Response r = services::handle_local_metrics(*world.context, req);
  switch (r.status) {
    case 200:
    case 400:
    case 404:
    case 405:
      break;
    default:
      std::abort();  // 500 would be a store error: none is expected here
  }
  return 0;
}
