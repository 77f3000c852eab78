// The embedded MetricStore: one SQLite file in WAL mode (e.g. <data dir>/metrics.db) plus an
// in-memory catalogue of every series, loaded at open.
//
// Writes: put() aggregates its batch in memory first (one row per series and minute, plus one
// per series and second for StorageResolution 1), then upserts those "recent" rows in one
// BEGIN IMMEDIATE transaction. Writers are serialized by a mutex; durability as
// storage/sqlite's Durability::Process (synchronous=NORMAL: a returned put() survives kill -9).
//
// compact(now), which the server runs periodically (every minute or few), packs the recent rows
// of closed periods into chunks (one row per series and hour of minutes, 6 hours of 5-minute
// rollups, a day of hourly rollups, a minute of seconds) in small transactions, then applies
// retention by dropping whole partitions. Every resolution is therefore complete for its
// retention (chunks plus the recent rows not yet packed), reads use the coarsest resolution
// whose buckets nest in the requested periods, and a long read touches few rows.
//
// Reads: the catalogue answers ListMetrics without touching SQLite; statistics() reads chunk
// and recent rows, one short key range per partition, on a pooled connection (WAL readers
// never block the writer). Results are the same before and after packing.
//
// Threading: every method may be called from any thread at once. The clock must outlive the
// store; every call must have returned before the store is destroyed.
#pragma once

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "metrics/catalogue.hpp"
#include "metrics/metric_store.hpp"
#include "metrics/publishing_ledger.hpp"

namespace mailtally::sqlite {
class Connection;
}  // namespace mailtally::sqlite

namespace mailtally::metrics {

namespace sql {
using mailtally::sqlite::Connection;
}

// Also the PublishingLedger (its tables live in the same database, so ledger writes share the
// datapoints' transaction); that part is in sqlite_metric_store_ledger.cpp.
class SqliteMetricStore final : public MetricStore, public PublishingLedger {
 public:
  // Opens (creating it, mode 0600, if missing) and migrates the database at `path`, and loads
  // the catalogue. Throws std::runtime_error with a clear message on failure.
  static std::unique_ptr<SqliteMetricStore> open(const std::string& path, const base::Clock& clock);
  ~SqliteMetricStore() override;
  SqliteMetricStore(const SqliteMetricStore&) = delete;
  SqliteMetricStore& operator=(const SqliteMetricStore&) = delete;

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
  SqliteMetricStore(std::string path, const base::Clock& clock);
  void put_batch(const std::vector<Datum>& data, const CursorAdvance* advance,
                 const LedgerWrite* ledger = nullptr);
  // The ledger's part of put_batch, inside its transaction (writer_ held).
  void write_ledger(const LedgerWrite& ledger, const std::vector<std::int64_t>& ids);
  void load_owners();
  // Packs the recent rows of resolution `res` older than `horizon`; returns rows packed.
  std::int64_t pack(std::int64_t res, std::int64_t horizon);
  // Drops partitions of `table` rows at `res` that ended before `cutoff`; returns rows deleted.
  std::int64_t expire(bool chunks, std::int64_t res, std::int64_t cutoff);

  std::unique_ptr<sql::Connection> open_connection() const;
  // A free read connection (opened on demand), and its return after the call.
  std::unique_ptr<sql::Connection> acquire_reader() const;
  void release_reader(std::unique_ptr<sql::Connection> conn) const;

  const std::string path_;
  const base::Clock& clock_;

  std::mutex write_mu_;  // serializes writers; guards writer_ and next_id_
  std::unique_ptr<sql::Connection> writer_;
  std::int64_t next_id_ = 1;

  mutable std::shared_mutex catalogue_mu_;
  Catalogue catalogue_;

  // owner -> series ids it publishes into; written after commit under catalogue_mu_.
  StringMap<std::vector<std::int64_t>> owners_;
  StringMap<std::int64_t> owner_index_;  // owner + "\x1d" + series id -> 1 (membership)

  mutable std::mutex readers_mu_;
  mutable std::vector<std::unique_ptr<sql::Connection>> readers_;  // free read connections
};

}  // namespace mailtally::metrics
