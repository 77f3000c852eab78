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
  CloudWatchSink sink(*t.store, *t.store, t.clock);
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
  CloudWatchSink sink(*t.store, *t.store, t.clock);
  sink.apply("cs/cw", 9, {},
             {{8, domain::DropReason::BadHeaderCharacters, "X-Campaign", "m-8", 0},
              {9, domain::DropReason::BadHeaderCharacters, "X-Campaign", "m-9", 0}});
  metrics::MetricKey key{std::string(kDiagnosticsNamespace),
                         std::string(kDroppedMetric),
                         {{"ConfigurationSet", "cs"},
                          {"EventDestination", "cw"},
                          {"Reason", "bad_header_characters"}}};
  metrics::normalize(key);
  EXPECT_EQ(t.sum(key), 2);
  // The ledger has the count and the examples, newest first.
  auto counts = t.store->drop_counts();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].owner, "cs/cw");
  EXPECT_EQ(counts[0].reason, "bad_header_characters");
  EXPECT_EQ(counts[0].count, 2);
  auto ex = t.store->drop_examples("cs/cw", "bad_header_characters", 5);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].message_id, "m-9");
  EXPECT_EQ(ex[0].dimension, "X-Campaign");
}

TEST(CloudWatchSink, CapRefusesNewSeriesButKeepsExistingOnes) {
  TempStore t;
  SinkOptions options;
  options.default_cap = 2;
  CloudWatchSink sink(*t.store, *t.store, t.clock, options);
  sink.apply("cs/cw", 1, {send_point("a"), send_point("b"), send_point("c")}, {});
  EXPECT_EQ(t.store->owned_series("cs/cw").size(), 2u);
  EXPECT_EQ(t.sum({"AWS/SES", "Send", {{"campaign", "a"}}}), 1);
  EXPECT_EQ(t.sum({"AWS/SES", "Send", {{"campaign", "c"}}}), 0);
  // Existing series keep counting; new ones are refused and counted as cap_reached.
  sink.apply("cs/cw", 2, {send_point("a"), send_point("d")}, {});
  EXPECT_EQ(t.sum({"AWS/SES", "Send", {{"campaign", "a"}}}), 2);
  auto counts = t.store->drop_counts();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].reason, "cap_reached");
  EXPECT_EQ(counts[0].count, 2);
  // Raising the cap (durably) lets the next new series in.
  sink.set_cap("cs/cw", 3);
  EXPECT_EQ(sink.cap_of("cs/cw"), 3);
  sink.apply("cs/cw", 3, {send_point("d"), send_point("e")}, {});
  EXPECT_EQ(t.sum({"AWS/SES", "Send", {{"campaign", "d"}}}), 1);
  EXPECT_EQ(t.store->owned_series("cs/cw").size(), 3u);
  EXPECT_EQ(t.store->caps().size(), 1u);
  // A second destination publishing into the same series owns it too (and has its own cap).
  sink.apply("cs/other", 1, {send_point("a")}, {});
  EXPECT_EQ(t.store->owned_series("cs/other").size(), 1u);
}

TEST(CloudWatchSink, LiveCoverageMergesAdjacentBatchesPerFingerprint) {
  TempStore t;
  CloudWatchSink sink(*t.store, *t.store, t.clock);
  sink.apply("cs/cw", 5, {send_point("a")}, {}, {"f1", 0});
  sink.apply("cs/cw", 9, {send_point("a")}, {}, {"f1", 5});
  sink.apply("cs/cw", 12, {send_point("a")}, {}, {"f2", 9});
  EXPECT_EQ(t.store->coverage("cs/cw", "f1"), (std::vector<metrics::SeqRange>{{0, 9}}));
  EXPECT_EQ(t.store->coverage("cs/cw", "f2"), (std::vector<metrics::SeqRange>{{9, 12}}));
  EXPECT_TRUE(metrics::covered(t.store->coverage("cs/cw", "f1"), 9));
  EXPECT_FALSE(metrics::covered(t.store->coverage("cs/cw", "f1"), 10));
  // Replays record their own ranges and move no cursor.
  sink.apply_replay("cs/cw", {send_point("a")}, {}, "f2", {{0, 3}});
  EXPECT_EQ(sink.cursor("cs/cw"), 12);
  EXPECT_TRUE(metrics::covered(t.store->coverage("cs/cw", "f2"), 2));
  EXPECT_EQ(t.sum({"AWS/SES", "Send", {{"campaign", "a"}}}), 4);
}

TEST(CloudWatchSink, AccountBatchesPublishReputationRates) {
  TempStore t;
  CloudWatchSink sink(*t.store, *t.store, t.clock);
  auto account = [](std::string name) {
    domain::Datapoint p;
    p.metric_name = std::move(name);
    p.timestamp = 1'800'000'000 - 10;
    return p;
  };
  sink.apply("account", 1, {account("Send"), account("Send"), account("Send"), account("Send")},
             {});
  sink.apply("account", 2, {account("Bounce")}, {});
  metrics::StatisticsQuery q;
  q.metric = {"AWS/SES", "Reputation.BounceRate", {}};
  q.start = 1'800'000'000 - 3600;
  q.end = 1'800'000'000 + 3600;
  q.period = 7200;
  auto points = t.store->statistics(q);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].unit, "Percent");
  EXPECT_DOUBLE_EQ(points[0].aggregate.maximum, 0.25);  // 1 bounce / 4 sends
  EXPECT_DOUBLE_EQ(points[0].aggregate.minimum, 0.0);   // after the sends alone
  // A new sink (a restart) reloads the window from the store.
  CloudWatchSink again(*t.store, *t.store, t.clock);
  again.apply("account", 3, {account("Complaint")}, {});
  q.metric.name = "Reputation.ComplaintRate";
  points = t.store->statistics(q);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_DOUBLE_EQ(points[0].aggregate.maximum, 0.25);
}

TEST(CloudWatchSink, UnstorableValuesBecomeDropsInsteadOfFailingForever) {
  TempStore t;
  CloudWatchSink sink(*t.store, *t.store, t.clock);
  sink.apply("cs/cw", 1, {send_point("")}, {});  // CloudWatch needs a non-empty value
  EXPECT_EQ(sink.cursor("cs/cw"), 1);
}

}  // namespace
}  // namespace mailtally::destinations
