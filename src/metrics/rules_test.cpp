// CloudWatch's period rules and StartTime rounding.
#include <gtest/gtest.h>

#include "metrics/rules.hpp"

namespace mailtally::metrics::rules {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z, a whole hour

TEST(Rules, ValidPeriods) {
  for (std::int64_t p : {1, 5, 10, 30, 60, 120, 300, 3600, 86400}) EXPECT_TRUE(valid_period(p));
  for (std::int64_t p : {0, -60, 2, 15, 45, 59, 61, 90, 301}) EXPECT_FALSE(valid_period(p));
}

TEST(Rules, RecentStartRoundsToTheMinute) {
  Window w = round_window(kNow - 3600 + 34.5, kNow, 60, kNow);
  EXPECT_EQ(w.start, kNow - 3600);
  EXPECT_TRUE(w.returns_data);
  EXPECT_EQ(datapoints_requested(w, 60), 60);
}

TEST(Rules, SubMinutePeriodsRoundToTheirStep) {
  // 01:05:23 with period 10 -> 01:05:20; period 5 at :17 -> :15; period 1 keeps the second.
  EXPECT_EQ(round_window(kNow - 37, kNow, 10, kNow).start, kNow - 40);
  EXPECT_EQ(round_window(kNow - 43, kNow, 5, kNow).start, kNow - 45);
  EXPECT_EQ(round_window(kNow - 43.7, kNow, 1, kNow).start, kNow - 44);
  EXPECT_EQ(round_window(kNow - 43, kNow, 30, kNow).start, kNow - 60);
}

TEST(Rules, OlderStartsRoundCoarser) {
  std::int64_t t20 = kNow - 20 * kDay + 7 * 60 + 34;  // 20 days ago, 7m34s past an hour
  EXPECT_EQ(round_window(t20, kNow, 300, kNow).start, kNow - 20 * kDay + 5 * 60);
  std::int64_t t100 = kNow - 100 * kDay + 32 * 60 + 34;
  EXPECT_EQ(round_window(t100, kNow, 3600, kNow).start, kNow - 100 * kDay);
}

TEST(Rules, PeriodMustSuitTheStartsAge) {
  EXPECT_TRUE(round_window(kNow - 2 * kHour, kNow, 10, kNow).returns_data);
  EXPECT_FALSE(round_window(kNow - 4 * kHour, kNow, 10, kNow).returns_data);
  EXPECT_TRUE(round_window(kNow - 4 * kHour, kNow, 60, kNow).returns_data);
  EXPECT_FALSE(round_window(kNow - 20 * kDay, kNow, 60, kNow).returns_data);
  EXPECT_TRUE(round_window(kNow - 20 * kDay, kNow, 600, kNow).returns_data);
  EXPECT_FALSE(round_window(kNow - 70 * kDay, kNow, 600, kNow).returns_data);
  EXPECT_TRUE(round_window(kNow - 70 * kDay, kNow, 7200, kNow).returns_data);
}

TEST(Rules, RetentionLimitsWhatIsReturned) {
  EXPECT_EQ(round_window(kNow - 2 * kHour, kNow, 1, kNow).data_from, kNow - 2 * kHour);
  EXPECT_EQ(round_window(kNow - 500 * kDay, kNow, 86400, kNow).data_from, kNow - 455 * kDay);
}

TEST(Rules, DatapointCountIsACeiling) {
  Window w = round_window(kNow - kDay, kNow, 60, kNow);
  EXPECT_EQ(datapoints_requested(w, 60), 1440);
  w.end += 1;
  EXPECT_EQ(datapoints_requested(w, 60), 1441);
  EXPECT_EQ(with_thousands(1441), "1,441");
  EXPECT_EQ(with_thousands(100), "100");
  EXPECT_EQ(with_thousands(1234567), "1,234,567");
}

}  // namespace
}  // namespace mailtally::metrics::rules
