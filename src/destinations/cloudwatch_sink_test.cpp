#include <gtest/gtest.h>

#include <filesystem>

#include "destinations/cloudwatch_sink.hpp"
#include "metrics/sqlite_metric_store.hpp"

namespace mailtally::destinations {
namespace {

struct TempStore {
  std::filesystem::path dir;
  base::ManualClock clock{base::TimePoint(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<metrics::SqliteMetricStore> store;
  TempStore() {
    dir = std::filesystem::temp_directory_path() /
          ("mt-sink-" + std::to_string(::getpid()) + "-" +
           std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(dir);
    store = metrics::SqliteMetricStore::open((dir / "metrics.db").string(), clock);
  }
  ~TempStore() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
  double sum(const metrics::MetricKey& key) {
    metrics::StatisticsQuery q;
    q.metric = key;
    q.start = 1'800'000'000 - 3600;
    q.end = 1'800'000'000 + 3600;
    q.period = 7200;
    double s = 0;
    for (const auto& p : store->statistics(q)) s += p.aggregate.sum;
    return s;
  }
};

domain::Datapoint send_point(std::string campaign) {
  domain::Datapoint p;
  p.metric_name = "Send";
  p.dimensions = {{"campaign", std::move(campaign)}};
  p.timestamp = 1'800'000'000 - 10;
  return p;
}

TEST(CloudWatchSink, PutsCountsAndCursorTogetherAndSkipsReplays) {
  TempStore t;
  CloudWatchSink sink(*t.store, t.clock);
  EXPECT_FALSE(sink.cursor("cs/cw"));
  sink.apply("cs/cw", 5, {send_point("book"), send_point("book")}, {});
  EXPECT_EQ(sink.cursor("cs/cw"), 5);
  metrics::MetricKey key{"AWS/SES", "Send", {{"campaign", "book"}}};
  EXPECT_EQ(t.sum(key), 2);
  // The same batch again (a crash before the dispatcher moved on) counts nothing.
  sink.apply("cs/cw", 5, {send_point("book"), send_point("book")}, {});
  EXPECT_EQ(t.sum(key), 2);
  sink.apply("cs/cw", 6, {send_point("book")}, {});
  EXPECT_EQ(t.sum(key), 3);
  // Another destination has its own cursor.
  EXPECT_FALSE(sink.cursor("cs/other"));
}

TEST(CloudWatchSink, DropsAreCountedByDestinationAndReason) {
  TempStore t;
  CloudWatchSink sink(*t.store, t.clock);
  sink.apply("cs/cw", 9, {},
             {{8, domain::DropReason::BadHeaderCharacters, "X-Campaign"},
              {9, domain::DropReason::BadHeaderCharacters, "X-Campaign"}});
  metrics::MetricKey key{std::string(kDiagnosticsNamespace),
                         std::string(kDroppedMetric),
                         {{"ConfigurationSet", "cs"},
                          {"EventDestination", "cw"},
                          {"Reason", "bad_header_characters"}}};
  metrics::normalize(key);
  EXPECT_EQ(t.sum(key), 2);
}

TEST(CloudWatchSink, UnstorableValuesBecomeDropsInsteadOfFailingForever) {
  TempStore t;
  CloudWatchSink sink(*t.store, t.clock);
  sink.apply("cs/cw", 1, {send_point("")}, {});  // CloudWatch needs a non-empty value
  EXPECT_EQ(sink.cursor("cs/cw"), 1);
}

}  // namespace
}  // namespace mailtally::destinations
