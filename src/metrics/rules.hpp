// CloudWatch's time rules for reading and writing metrics: valid periods, StartTime rounding,
// which periods return data for how old a start, retention, and PutMetricData's timestamp
// window. `now` is always passed in (the injected clock's time); nothing here reads a clock.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace mailtally::metrics::rules {

inline constexpr std::int64_t kMinute = 60;
inline constexpr std::int64_t kHour = 3600;
inline constexpr std::int64_t kDay = 86400;

// How long each resolution is kept (CloudWatch: < 60 s for 3 hours, 1 min for 15 days, 5 min
// for 63 days, 1 hour for 455 days).
inline constexpr std::int64_t kSecondRetention = 3 * kHour;
inline constexpr std::int64_t kMinuteRetention = 15 * kDay;
inline constexpr std::int64_t kFiveMinuteRetention = 63 * kDay;
inline constexpr std::int64_t kHourRetention = 455 * kDay;

// ListMetrics: RecentlyActive=PT3H, and metrics without data for two weeks are not listed.
inline constexpr std::int64_t kRecentlyActive = 3 * kHour;
inline constexpr std::int64_t kListedFor = 14 * kDay;

// PutMetricData timestamps: at most two weeks in the past and two hours in the future.
inline constexpr std::int64_t kMaxPastTimestamp = 14 * kDay;
inline constexpr std::int64_t kMaxFutureTimestamp = 2 * kHour;

inline constexpr std::int64_t kMaxStatisticsDatapoints = 1440;

// 1, 5, 10, 30 (high resolution) or any positive multiple of 60.
bool valid_period(std::int64_t period);

// The time range a statistics request really reads.
struct Window {
  std::int64_t start = 0;      // StartTime rounded down as CloudWatch does; periods start here
  std::int64_t end = 0;        // EndTime (exclusive), whole seconds rounded up
  std::int64_t data_from = 0;  // no data older than this is returned (retention)
  bool returns_data = true;    // false: the period does not suit the start's age (no datapoints)
};

// StartTime rounding: less than 15 days old -> down to the minute; 15 to 63 days -> 5 minutes;
// older -> the hour; a period of 5, 10 or 30 s -> down to that many seconds, of 1 s -> to the
// second. A start older than 3 hours returns data only with a period that is a multiple of 60
// (older than 15 days: of 300; older than 63 days: of 3600). Requires start < end.
Window round_window(double start, double end, std::int64_t period, std::int64_t now);

// Periods [start, end) holds with this period (ceiling).
std::int64_t datapoints_requested(const Window& w, std::int64_t period);

// 1440 -> "1,440".
std::string with_thousands(std::int64_t n);

}  // namespace mailtally::metrics::rules
