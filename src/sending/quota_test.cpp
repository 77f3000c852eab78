#include "sending/quota.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "sending/sender.hpp"

namespace mailtally::sending {
namespace {

using namespace std::chrono_literals;

class FixedStatistics final : public domain::SendStatisticsStore {
 public:
  std::mutex mu;  // the shared-mode test changes points while a fold thread reads them
  std::vector<domain::SendDataPoint> points;
  std::int64_t last_since = -1;
  int folds = 0;
  std::size_t fold_send_statistics(std::size_t) override {
    ++folds;
    return 0;
  }
  std::vector<domain::SendDataPoint> send_statistics(std::int64_t since) override {
    std::lock_guard lock(mu);
    last_since = since;
    std::vector<domain::SendDataPoint> out;
    for (const auto& p : points) {
      if (p.bucket >= since) out.push_back(p);
    }
    return out;
  }
};

base::TimePoint at(std::int64_t seconds) { return base::TimePoint(std::chrono::seconds(seconds)); }

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kT0 = 1'800'000'000 - 1'800'000'000 % 900;  // a bucket start

// Waits (real time) until `pred` holds, up to 5 s.
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

TEST(SendQuota, SharedModeCountsEveryNodesSendsAgainstTheDailyQuota) {
  base::ManualClock clock(at(kT0));
  FixedStatistics stats;  // the statistics both nodes fold into (one database)
  SendQuota a(clock, 10, 0, stats), b(clock, 10, 0, stats);
  a.set_shared(true);
  b.set_shared(true);
  b.start(10ms);
  EXPECT_EQ(a.take(4), QuotaVerdict::Ok);
  {
    std::lock_guard lock(stats.mu);
    stats.points = {{kT0, 4, 0, 0, 0}};  // what the fold of a's Send events gives
  }
  // b reloads its window from the shared statistics after its next fold.
  EXPECT_TRUE(eventually([&] { return b.sent_last_24_hours() == 4; }));
  EXPECT_EQ(b.take(6), QuotaVerdict::Ok);
  EXPECT_EQ(b.take(1), QuotaVerdict::DailyQuotaExceeded);  // 4 (a) + 6 (b) = the quota
  b.stop();
  // Unshared, a node only knows its own sends and what it loaded at start.
  SendQuota c(clock, 10, 0, stats);
  EXPECT_EQ(c.sent_last_24_hours(), 4);
  EXPECT_EQ(c.take(6), QuotaVerdict::Ok);
}

TEST(SendQuota, RateIsATokenBucketOfOneSecond) {
  base::ManualClock clock(at(kT0));
  FixedStatistics stats;
  SendQuota q(clock, 0, 2, stats);
  EXPECT_EQ(q.take(1), QuotaVerdict::Ok);
  EXPECT_EQ(q.take(1), QuotaVerdict::Ok);
  EXPECT_EQ(q.take(1), QuotaVerdict::RateExceeded);
  clock.advance(500ms);
  EXPECT_EQ(q.take(1), QuotaVerdict::Ok);
  EXPECT_EQ(q.take(1), QuotaVerdict::RateExceeded);
  clock.advance(1s);
  // More recipients than a second's rate: admitted with a full bucket, leaving a debt.
  EXPECT_EQ(q.take(5), QuotaVerdict::Ok);
  clock.advance(1s);
  EXPECT_EQ(q.take(1), QuotaVerdict::RateExceeded);
  EXPECT_EQ(q.sent_last_24_hours(), 8);  // refused sends are not counted
}

TEST(SendQuota, DailyQuotaCountsRecipientsOverA24HourWindow) {
  base::ManualClock clock(at(kT0));
  FixedStatistics stats;
  // Sent before the start: one bucket just inside the window, one just outside.
  stats.points = {{kT0 - kDay, 100, 0, 0, 0}, {kT0 - kDay + 900, 2, 0, 0, 0}};
  SendQuota q(clock, 5, 0, stats);
  EXPECT_EQ(q.sent_last_24_hours(), 2);
  EXPECT_EQ(q.take(4), QuotaVerdict::DailyQuotaExceeded);
  EXPECT_EQ(q.take(3), QuotaVerdict::Ok);
  EXPECT_EQ(q.take(1), QuotaVerdict::DailyQuotaExceeded);
  clock.advance(std::chrono::seconds(900));  // the oldest bucket leaves the window
  EXPECT_EQ(q.sent_last_24_hours(), 3);
  EXPECT_EQ(q.take(2), QuotaVerdict::Ok);
  clock.advance(std::chrono::seconds(kDay));
  EXPECT_EQ(q.sent_last_24_hours(), 0);
}

TEST(SendQuota, UnlimitedWhenLimitsAreNotPositive) {
  base::ManualClock clock(at(kT0));
  FixedStatistics stats;
  SendQuota q(clock, -1, 0, stats);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(q.take(50), QuotaVerdict::Ok);
  EXPECT_EQ(q.sent_last_24_hours(), 50000);
}

TEST(SendQuota, StatisticsCoverTwoWeeks) {
  base::ManualClock clock(at(kT0 + 10));
  FixedStatistics stats;
  SendQuota q(clock, 0, 0, stats);
  int folds = stats.folds;  // the constructor folded
  EXPECT_GE(folds, 1);
  q.send_statistics();
  EXPECT_EQ(stats.last_since, kT0 - 14 * kDay + 900);
  EXPECT_EQ(stats.folds, folds + 1);  // reads fold what the log added first
}

TEST(SendQuota, CheckQuotaMapsVerdictsToSesErrors) {
  base::ManualClock clock(at(kT0));
  FixedStatistics stats;
  SendQuota q(clock, 1, 0, stats);
  EXPECT_FALSE(check_quota(nullptr, 10));
  EXPECT_FALSE(check_quota(&q, 1));
  auto e = check_quota(&q, 1);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, SendErrorKind::DailyQuotaExceeded);
  EXPECT_EQ(e->message, "Daily message quota exceeded.");
}

}  // namespace
}  // namespace mailtally::sending
