// What every MetricStore implementation shares (SQLite and PostgreSQL): batch validation, a
// datum's aggregate, time bucketing, the resolution a read uses, ListMetrics' paging token and
// the per-period accumulation of a statistics() answer. Keeping it in one place is what makes
// the stores answer identically for the same data.
//
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/chunk.hpp"
#include "metrics/types.hpp"

namespace mailtally::metrics::support {

// Timestamps beyond +-10^12 s (about 31,700 years) are refused rather than overflow.
inline constexpr double kMaxTimestamp = 1e12;

// Throws std::invalid_argument naming the first datum whose key is unstorable (control
// characters, more than kMaxDimensions dimensions) or whose timestamp is unusable.
void validate(const std::vector<Datum>& data);

// Floor of t / step times step, and floor division, also for negative t.
std::int64_t floor_to(std::int64_t t, std::int64_t step);
std::int64_t floor_div(std::int64_t a, std::int64_t b);

// The statistics of one datum (value, values + counts, or statistic set).
Aggregate aggregate_of(const Datum& d);

// The coarsest stored resolution (1, 60, 300 or 3600 s) whose buckets nest in the query's
// periods starting at `start`.
std::int64_t resolution_for(std::int64_t start, std::int64_t period);

// ListMetrics' NextToken: the id of the last metric of a page (opaque to clients).
std::string list_token(std::int64_t after_id);
std::optional<std::int64_t> parse_list_token(std::string_view token);

// Per-period aggregates of one series, fed with stored buckets in ascending time; buckets
// outside [from, query.end) or without samples are ignored.
class PeriodBuckets {
 public:
  PeriodBuckets(const StatisticsQuery& q, std::int64_t from, const std::string& unit,
                std::size_t expected);
  void add(std::int64_t ts, const SlotView& s);
  std::vector<PeriodStatistics> take() { return std::move(out_); }

 private:
  const StatisticsQuery& q_;
  const std::int64_t from_;
  const std::string& unit_;
  std::vector<PeriodStatistics> out_;
};

// Appends the union of two ascending period lists to `out`, merging equal periods.
void merge_sorted(std::vector<PeriodStatistics> a, std::vector<PeriodStatistics> b,
                  std::vector<PeriodStatistics>& out);

// The last step of statistics(): with several series (units), either one entry per period
// (query.merge_units, unit left empty) or entries ordered by (period, unit).
void finish_units(const StatisticsQuery& q, std::size_t series, std::vector<PeriodStatistics>& out);

// Periods [start, end) holds (a reservation hint, capped).
std::size_t expected_periods(const StatisticsQuery& q);

}  // namespace mailtally::metrics::support
