// Percentile sketches and aggregates: exactness while small, bounded error once bucketed,
// CloudWatch's unavailability rules, encoding round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "metrics/aggregate.hpp"
#include "metrics/chunk.hpp"
#include "metrics/sketch.hpp"
#include "metrics/statistic.hpp"

namespace mailtally::metrics {
namespace {

TEST(Sketch, ExactNearestRankWhileSmall) {
  Sketch s;
  for (int v = 1; v <= 50; ++v) s.add(v);
  EXPECT_TRUE(s.exact());
  EXPECT_EQ(*s.quantile(0.0), 1);
  EXPECT_EQ(*s.quantile(0.5), 25);
  EXPECT_EQ(*s.quantile(0.9), 45);
  EXPECT_EQ(*s.quantile(0.99), 50);
  EXPECT_EQ(*s.quantile(1.0), 50);
}

TEST(Sketch, WeightedCounts) {
  Sketch s;
  s.add(10, 9);
  s.add(1000, 1);
  EXPECT_EQ(*s.quantile(0.9), 10);
  EXPECT_EQ(*s.quantile(0.91), 1000);
  EXPECT_DOUBLE_EQ(s.total(), 10);
}

TEST(Sketch, BucketedWithinOnePercent) {
  Sketch s;
  std::vector<double> values;
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(3.0, 1.5);
  for (int i = 0; i < 20000; ++i) {
    double v = dist(rng);
    values.push_back(v);
    s.add(v);
  }
  EXPECT_FALSE(s.exact());
  std::sort(values.begin(), values.end());
  for (double q : {0.01, 0.25, 0.5, 0.9, 0.99, 0.999}) {
    double truth = values[static_cast<std::size_t>(std::ceil(q * values.size())) - 1];
    double got = *s.quantile(q);
    EXPECT_NEAR(got, truth, truth * 0.0101) << "q=" << q;
  }
}

TEST(Sketch, MergeEqualsAddingEverything) {
  Sketch a;
  Sketch b;
  Sketch all;
  for (int i = 0; i < 300; ++i) {
    (i % 2 ? a : b).add(i * 1.5);
    all.add(i * 1.5);
  }
  a.merge(b);
  for (double q : {0.1, 0.5, 0.95}) EXPECT_DOUBLE_EQ(*a.quantile(q), *all.quantile(q));
}

TEST(Sketch, NegativeValuesMakePercentilesUnavailable) {
  Sketch s;
  s.add(5);
  s.add(-1);
  EXPECT_FALSE(s.available());
  EXPECT_FALSE(s.quantile(0.5).has_value());
  Sketch other;
  other.add(3);
  other.merge(s);
  EXPECT_FALSE(other.available());
}

TEST(Sketch, ZeroIsExactInBuckets) {
  Sketch s;
  for (int i = 0; i < 100; ++i) s.add(0);
  for (int i = 1; i <= 100; ++i) s.add(i);
  EXPECT_FALSE(s.exact());
  EXPECT_EQ(*s.quantile(0.4), 0.0);
  EXPECT_NEAR(*s.quantile(0.75), 50, 0.6);
}

TEST(Sketch, EncodeDecodeRoundTrip) {
  for (int n : {0, 3, 64, 65, 5000}) {
    Sketch s;
    for (int i = 0; i < n; ++i) s.add(i * 0.37, i % 3 == 0 ? 2.5 : 1);
    auto back = Sketch::decode(s.encode());
    ASSERT_TRUE(back.has_value()) << n;
    EXPECT_EQ(back->encode(), s.encode());
    EXPECT_EQ(back->quantile(0.5), s.quantile(0.5));
  }
  Sketch u;
  u.mark_unavailable();
  EXPECT_FALSE(Sketch::decode(u.encode())->available());
}

TEST(Sketch, DecodeRefusesGarbage) {
  EXPECT_FALSE(Sketch::decode("").has_value());
  EXPECT_FALSE(Sketch::decode("\x02\x00").has_value());
  EXPECT_FALSE(Sketch::decode(std::string("\x01\x00\x05", 3)).has_value());
}

TEST(Aggregate, StatisticSetPercentilesFollowCloudWatch) {
  Aggregate uniform;
  uniform.add_statistic_set(4, 20, 5, 5);  // Min == Max: four fives
  EXPECT_EQ(*uniform.percentile(50), 5);
  Aggregate single;
  single.add_statistic_set(1, 7, 7, 7);
  EXPECT_EQ(*single.percentile(99), 7);
  Aggregate spread;
  spread.add_statistic_set(3, 9, 1, 5);
  EXPECT_FALSE(spread.percentile(50).has_value());
  EXPECT_DOUBLE_EQ(spread.average(), 3);
}

TEST(Statistic, Parsing) {
  EXPECT_EQ(parse_statistic("Sum")->kind, StatKind::Sum);
  EXPECT_EQ(parse_statistic("p99")->percentile, 99);
  EXPECT_DOUBLE_EQ(parse_statistic("p99.95")->percentile, 99.95);
  EXPECT_EQ(parse_statistic("p100")->percentile, 100);
  EXPECT_EQ(parse_statistic("p0.0")->percentile, 0);
  for (const char* bad : {"sum", "p", "p101", "p99.999", "p-1", "p9x", "P50", "p.5", "p50."}) {
    EXPECT_FALSE(parse_statistic(bad).has_value()) << bad;
  }
}

TEST(Statistic, Values) {
  Aggregate a;
  for (double v : {1.0, 2.0, 3.0, 10.0}) a.add_value(v);
  EXPECT_EQ(*statistic_value(a, *parse_statistic("SampleCount")), 4);
  EXPECT_EQ(*statistic_value(a, *parse_statistic("Average")), 4);
  EXPECT_EQ(*statistic_value(a, *parse_statistic("Minimum")), 1);
  EXPECT_EQ(*statistic_value(a, *parse_statistic("Maximum")), 10);
  EXPECT_EQ(*statistic_value(a, *parse_statistic("p50")), 2);
  EXPECT_FALSE(statistic_value(Aggregate{}, *parse_statistic("Sum")).has_value());
}

TEST(Chunk, WriteReadAndMerge) {
  Aggregate a;
  a.add_value(1);
  a.add_value(3);
  Aggregate b;
  b.add_value(10);
  ChunkWriter w1;
  w1.add(0, a);
  w1.add(5, b);
  ChunkWriter w2;
  w2.add(5, a);
  w2.add(59, b);
  auto merged = merge_chunks(w1.take(), w2.take());
  ASSERT_TRUE(merged.has_value());
  ChunkReader r(*merged);
  SlotView s;
  std::vector<std::uint32_t> slots;
  std::vector<double> sums;
  while (r.next(s)) {
    slots.push_back(s.slot);
    sums.push_back(s.sum);
  }
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(slots, (std::vector<std::uint32_t>{0, 5, 59}));
  EXPECT_EQ(sums, (std::vector<double>{4, 14, 10}));
  ChunkReader again(*merged);
  again.next(s);
  again.next(s);
  Aggregate five = to_aggregate(s, true);
  EXPECT_EQ(five.sample_count, 3);
  EXPECT_EQ(five.minimum, 1);
  EXPECT_EQ(five.maximum, 10);
  EXPECT_EQ(*five.percentile(50), 3);
}

TEST(Chunk, MalformedInputIsRefused) {
  EXPECT_FALSE(merge_chunks("", std::string(1, '\x01')).has_value());
  EXPECT_FALSE(merge_chunks(std::string("\x01\x00\x01", 3), std::string(1, '\x01')).has_value());
  const std::string truncated("\x01\x03", 2);
  ChunkReader r(truncated);
  SlotView s;
  EXPECT_FALSE(r.next(s));
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace mailtally::metrics
