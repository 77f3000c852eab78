// The MetricStore and PublishingLedger on PostgreSQL (issue 7), shared by every node of a
// cluster: each node pre-aggregates its batches in memory and merges them into the database,
// so totals are exact whatever node handled an event.
//
// Tables (schema component "metrics", metrics/pg_schema.hpp):
//   metric_metrics  one row per metric (namespace, name, dimensions; unique), with the
//                   dimension names and pairs as arrays (GIN-indexed for ListMetrics filters).
//   metric_series   one row per series (metric, unit; unique). Ids of both come from identity
//                   columns, drawn in batch order (creation order), never an in-process counter.
//   metric_recent   what put() writes: one row per series and minute (res 60) and, for
//                   StorageResolution 1, per second (res 1).
//   metric_rollups  what compact() makes of closed recent rows: res 1, 60, 300 and 3600 rows,
//                   one per series and bucket. Late data lands as a new recent row and is
//                   merged into the rollups by the next compaction (as the SQLite store does).
//   metric_cursors, and the ledger's metric_series_owners, metric_drop_counts,
//   metric_drop_examples, metric_coverage, metric_series_caps.
//
// Writes (put, put_published): the batch is aggregated in memory per series and bucket, then
// ONE transaction: (1) with an advance, the cursor row is locked first (see below); (2) missing
// series are inserted (ON CONFLICT DO NOTHING, ids drawn in batch order) and every id read
// back; (3) the buckets that already exist are locked with SELECT ... FOR UPDATE in (res,
// series, ts) order (every writer locks in that order, so nodes do not deadlock), their
// percentile sketches (which SQL cannot add) merged in C++ under that lock, and one UPDATE adds
// into them: SampleCount and Sum added, Minimum/Maximum by LEAST/GREATEST; (4) the other
// buckets are inserted (ON CONFLICT DO NOTHING; one another node inserted meanwhile goes
// through (3) again); (5) the cursor, (6) the ledger.
// A deadlock or serialization failure re-runs the whole transaction (pg::Pool).
//
// Cursors, exactly once with several nodes: put(data, advance) locks the row of `advance.name`
// before anything else; when the stored position is already >= advance.position (another node
// applied this batch, or a later one) NOTHING is applied (no datapoints, no ledger) and the
// call returns normally. Two nodes racing on one destination therefore apply a batch once.
//
// Reads: statistics() reads the rollups of the coarsest resolution that nests in the periods
// plus the recent rows not yet compacted, in one REPEATABLE READ snapshot (a compaction moving
// rows between the tables is seen wholly or not at all), and accumulates them with the same
// code as the SQLite store (metrics/store_support.hpp): identical answers for identical data.
// ListMetrics (one index walk over metric_metrics in id order), series_count and the ledger's
// lookups read the database on every call (no cache), so series other nodes create are seen
// at once.
//
// compact(now) takes a session advisory lock (one compaction at a time across the cluster; a
// second caller waits), then moves closed recent rows into the rollups in transactions of a
// bounded range of series, applies retention (rules.hpp) with the SQLite store's partition
// granularity, and expires series idle for 455 days.
//
// Timestamps are epoch seconds; last_put is written at most once a minute per series.
// Threading: every method may be called from any thread at once. The pool is borrowed (one per
// node, the app owns it) and, like the clock, must outlive the store.
#pragma once

#include <memory>

#include "base/clock.hpp"
#include "metrics/metric_store.hpp"
#include "metrics/publishing_ledger.hpp"
#include "pg/pool.hpp"

namespace mailtally::metrics {

class PgMetricStore final : public MetricStore, public PublishingLedger {
 public:
  // Migrates the "metrics" schema component. Throws pg::Error.
  static std::unique_ptr<PgMetricStore> open(pg::Pool& pool, const base::Clock& clock);
  PgMetricStore(const PgMetricStore&) = delete;
  PgMetricStore& operator=(const PgMetricStore&) = delete;

  void put(const std::vector<Datum>& data) override;
  void put(const std::vector<Datum>& data, const CursorAdvance& advance) override;
  std::optional<std::int64_t> cursor(std::string_view name) const override;
  base::Expected<MetricPage, ListError> list_metrics(const ListFilter& filter) const override;
  std::vector<PeriodStatistics> statistics(const StatisticsQuery& query) const override;
  CompactionReport compact(std::int64_t now) override;
  std::size_t series_count() const override;

  // PublishingLedger
  void put_published(const std::vector<Datum>& data, const CursorAdvance* advance,
                     const LedgerWrite& ledger) override;
  std::vector<bool> claimed(std::string_view owner,
                            const std::vector<SeriesKey>& keys) const override;
  std::vector<SeriesKey> owned_series(std::string_view owner) const override;
  std::vector<std::string> owners() const override;
  std::vector<DropCount> drop_counts() const override;
  std::vector<DropNote> drop_examples(std::string_view owner, std::string_view reason,
                                      std::size_t limit) const override;
  std::vector<SeqRange> coverage(std::string_view owner,
                                 std::string_view fingerprint) const override;
  void set_cap(std::string_view owner, std::optional<std::int64_t> cap) override;
  std::vector<std::pair<std::string, std::int64_t>> caps() const override;
  std::vector<SeriesKey> series_named(std::string_view ns, std::string_view name) const override;
  std::vector<SeriesKey> all_series() const override;

 private:
  PgMetricStore(pg::Pool& pool, const base::Clock& clock) : pool_(pool), clock_(clock) {}
  void put_batch(const std::vector<Datum>& data, const CursorAdvance* advance,
                 const LedgerWrite* ledger);
  std::int64_t now_seconds() const;
  // compact()'s steps, on the connection holding the advisory lock.
  std::int64_t pack(pg::Connection& conn, std::int64_t res, std::int64_t horizon);
  std::int64_t expire(pg::Connection& conn, const char* table, std::int64_t res,
                      std::int64_t cutoff);

  pg::Pool& pool_;
  const base::Clock& clock_;
};

}  // namespace mailtally::metrics
