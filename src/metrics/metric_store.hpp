// The metrics store interface: what the CloudWatch API and the SES publishing path need.
//
// Contract for every implementation:
// - Thread-safe: any method may be called from any number of threads at once.
// - put() is durable when it returns (committed), all-or-nothing for the whole batch.
// - Keys are normalized by the store (dimensions sorted by name); a key holding ASCII control
//   characters, or more than kMaxDimensions dimensions, or a timestamp that is not finite or
//   beyond +-1e12 s, throws std::invalid_argument before anything is written. All other
//   validation (CloudWatch's limits) is the caller's.
// - Timestamps are epoch seconds; data is bucketed per second (StorageResolution 1) and per
//   minute, 5 minutes and hour, and kept as metrics::rules says once compact() has run.
// - Storage failures throw std::runtime_error.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/expected.hpp"
#include "metrics/types.hpp"

namespace mailtally::metrics {

class MetricStore {
 public:
  virtual ~MetricStore() = default;

  virtual void put(const std::vector<Datum>& data) = 0;
  // put() plus, in the same transaction, cursor `advance.name` := `advance.position`.
  // A store shared by several nodes (PgMetricStore) locks the cursor first and applies NOTHING
  // when the stored position is already >= advance.position, so two nodes racing on one cursor
  // apply a batch once. The single-process SQLite store applies unconditionally; its one
  // writer per cursor checks cursor() before applying (same result).
  virtual void put(const std::vector<Datum>& data, const CursorAdvance& advance) = 0;
  // The position last stored for cursor `name`; nullopt when never set.
  virtual std::optional<std::int64_t> cursor(std::string_view name) const = 0;

  // Metrics (namespace + name + dimensions, any unit) matching `filter`, one page at a time,
  // in a stable order; only metrics with data put in the last two weeks are listed.
  virtual base::Expected<MetricPage, ListError> list_metrics(const ListFilter& filter) const = 0;

  // Per-period aggregates, periods starting at query.start, ascending; periods without data
  // are left out. One entry per (period, unit) unless query.merge_units.
  virtual std::vector<PeriodStatistics> statistics(const StatisticsQuery& query) const = 0;

  // Housekeeping the server runs periodically (every minute or few): reorganizes data for fast
  // reads, drops data past its retention and metrics without data for 455 days. Results of
  // statistics() do not change except for what expired. Works in small transactions so puts
  // are not held up long.
  virtual CompactionReport compact(std::int64_t now) = 0;

  // Number of distinct series (metric + unit) known.
  virtual std::size_t series_count() const = 0;
};

}  // namespace mailtally::metrics
