// PgMetricStore::compact(): closed recent rows rolled up into metric_rollups (res 1; or 60, 300
// and 3600), retention, and the expiry of series idle for 455 days. One node at a time (a
// session advisory lock); every step in short transactions over a bounded range of series so
// puts are not held up long.
#include <limits>
#include <map>
#include <tuple>

#include "metrics/pg_metric_sql.hpp"
#include "metrics/pg_metric_store.hpp"
#include "metrics/rules.hpp"
#include "metrics/schema.hpp"
#include "metrics/store_support.hpp"

namespace mailtally::metrics {
namespace {

// Recent rows are rolled up once their minute has been closed this long; later datums land as
// new recent rows and are merged by a later compaction.
constexpr std::int64_t kPackGrace = 120;
constexpr std::int64_t kPackSeries = 256;    // series per packing transaction
constexpr std::int64_t kDeleteRows = 10000;  // rows per retention transaction
// pg_advisory_lock key of "one compaction at a time" ("mtcompct").
constexpr std::int64_t kCompactionLock = 0x6d74636f6d706374;
constexpr int kAttempts = 5;

// Runs fn() in a transaction on `conn`, again on a deadlock or serialization failure.
template <typename Fn>
void in_transaction(pg::Connection& conn, Fn&& fn) {
  for (int attempt = 1;; ++attempt) {
    try {
      pg::Transaction tx(conn);
      fn();
      tx.commit();
      return;
    } catch (const pg::Error& e) {
      if (attempt >= kAttempts || !e.retryable()) throw;
    }
  }
}

// Holds the cluster-wide compaction lock for its lifetime (the lock is the session's: a lost
// connection releases it).
class CompactionLock {
 public:
  explicit CompactionLock(pg::Connection& conn) : conn_(conn) {
    conn_.query("SELECT pg_advisory_lock($1)", {kCompactionLock});
  }
  ~CompactionLock() {
    try {
      conn_.query("SELECT pg_advisory_unlock($1)", {kCompactionLock});
    } catch (...) {
      // Connection gone: the server released the lock with it.
    }
  }
  CompactionLock(const CompactionLock&) = delete;
  CompactionLock& operator=(const CompactionLock&) = delete;

 private:
  pg::Connection& conn_;
};

// The smallest series >= `from` with recent rows at `res` before `before`; nullopt when none.
std::optional<std::int64_t> next_series(pg::Connection& conn, std::int64_t res, std::int64_t before,
                                        std::int64_t from) {
  pg::Result r = conn.query(
      "SELECT min(series) FROM metric_recent WHERE res = $1 AND ts < $2 AND series >= $3",
      {res, before, from});
  if (r.is_null(0, 0)) return std::nullopt;
  return r.integer(0, 0);
}

}  // namespace

std::int64_t PgMetricStore::pack(pg::Connection& conn, std::int64_t res, std::int64_t horizon) {
  static const std::vector<std::int64_t> kSecondTargets = {1};
  static const std::vector<std::int64_t> kMinuteTargets = {60, 300, 3600};
  const auto& targets = res == 1 ? kSecondTargets : kMinuteTargets;
  auto first = next_series(conn, res, horizon, std::numeric_limits<std::int64_t>::min());
  std::int64_t packed = 0;
  for (auto lo = first; lo; lo = next_series(conn, res, horizon, *lo + kPackSeries)) {
    std::int64_t rows = 0;
    in_transaction(conn, [&] {
      // Taking the rows out and adding them to the rollups in one transaction: readers (one
      // snapshot) and puts (which re-create a deleted row) never see them twice or not at all.
      // Merged in (series, ts) order, as the SQLite store merges them.
      pg::Result taken = conn.query(
          "WITH taken AS (DELETE FROM metric_recent WHERE res = $1 AND series >= $2 "
          "AND series < $3 AND ts < $4 RETURNING series, ts, n, total, lo, hi, sketch) "
          "SELECT * FROM taken ORDER BY series, ts",
          {res, *lo, *lo + kPackSeries, horizon});
      std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, Aggregate> deltas;
      for (int i = 0; i < taken.rows(); ++i) {
        const std::string sketch = taken.bytea(i, 6);
        Aggregate a = to_aggregate(SlotView{0, taken.real(i, 2), taken.real(i, 3), taken.real(i, 4),
                                            taken.real(i, 5), sketch},
                                   true);
        for (std::int64_t t : targets) {
          deltas[{t, taken.integer(i, 0), support::floor_to(taken.integer(i, 1), t)}].merge(a);
        }
      }
      std::vector<pgsql::BucketDelta> merged;
      merged.reserve(deltas.size());
      for (auto& [k, a] : deltas) {
        merged.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), std::move(a)});
      }
      pgsql::merge_buckets(conn, "metric_rollups", merged);
      rows = taken.rows();
    });
    packed += rows;
  }
  return packed;
}

std::int64_t PgMetricStore::expire(pg::Connection& conn, const char* table, std::int64_t res,
                                   std::int64_t cutoff) {
  // Whole partitions, as the SQLite store keeps them: rows before the partition holding the
  // cutoff go, a bounded number per transaction (found through the (res, ts) index).
  const std::int64_t keep_from = schema::partition_of(cutoff, res) * schema::partition_width(res);
  const std::string sql = std::string("DELETE FROM ") + table +
                          " WHERE ctid = ANY(ARRAY(SELECT ctid FROM " + table +
                          " WHERE res = $1 AND ts < $2 LIMIT $3))";
  std::int64_t deleted = 0;
  for (;;) {
    std::int64_t n = 0;
    in_transaction(conn, [&] { n = conn.run(sql, {res, keep_from, kDeleteRows}); });
    deleted += n;
    if (n < kDeleteRows) return deleted;
  }
}

CompactionReport PgMetricStore::compact(std::int64_t now) {
  auto lease = pool_.acquire();
  pg::Connection& conn = *lease;
  CompactionLock lock(conn);
  CompactionReport report;
  const std::int64_t horizon = support::floor_to(now - kPackGrace, 60);
  report.rows_packed += pack(conn, 1, horizon);
  report.rows_packed += pack(conn, 60, horizon);

  struct Tier {
    std::int64_t res;
    std::int64_t retention;
  };
  static constexpr Tier kTiers[] = {{1, rules::kSecondRetention},
                                    {60, rules::kMinuteRetention},
                                    {300, rules::kFiveMinuteRetention},
                                    {3600, rules::kHourRetention}};
  for (const Tier& tier : kTiers) {
    report.rows_deleted += expire(conn, "metric_rollups", tier.res, now - tier.retention);
  }
  // Recent rows are normally rolled up long before; these only catch very late data.
  report.rows_deleted += expire(conn, "metric_recent", 1, now - rules::kSecondRetention);
  report.rows_deleted += expire(conn, "metric_recent", 60, now - rules::kHourRetention);

  // Series (and metrics) expire 455 days after their last put. A put into such a series
  // refreshes last_put under the row lock, so it either wins (the series stays) or finds it
  // gone and re-runs, re-creating it.
  in_transaction(conn, [&] {
    report.series_expired =
        conn.run("DELETE FROM metric_series WHERE last_put < $1", {now - rules::kHourRetention});
    conn.run(
        "DELETE FROM metric_metrics m WHERE last_put < $1 AND NOT EXISTS "
        "(SELECT 1 FROM metric_series s WHERE s.metric = m.id)",
        {now - rules::kHourRetention});
  });
  return report;
}

}  // namespace mailtally::metrics
