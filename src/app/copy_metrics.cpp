// The metrics part of `mailtally copy-to-postgres`: the SQLite store (metrics/schema.cpp) keeps
// one `series` table and packs closed periods into chunks; the PostgreSQL store
// (metrics/pg_metric_sql.cpp) splits metrics from series and keeps closed periods as one row per
// bucket. Series keep their ids, so the ledger's references stay valid.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <tuple>

#include "app/copy_sqlite_query.hpp"
#include "metrics/chunk.hpp"

namespace mailtally::app {
namespace {

std::string column_bytes(sqlite3_stmt* s, int col) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s, col));
  return std::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s, col)));
}

constexpr std::string_view kInsertMetric =
    "INSERT INTO metric_metrics (namespace, name, dimensions, dim_names, dim_pairs, last_put) "
    "VALUES ($1, $2, $3, ARRAY(SELECT split_part(p, chr(30), 1) FROM "
    "unnest(string_to_array(rtrim($3, chr(31)), chr(31))) AS p), "
    "string_to_array(rtrim($3, chr(31)), chr(31)), $4) "
    "ON CONFLICT (namespace, name, dimensions) DO UPDATE "
    "SET last_put = greatest(metric_metrics.last_put, excluded.last_put) RETURNING id";

constexpr std::string_view kInsertBucket =
    " (res, series, ts, n, total, lo, hi, sketch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

// Copies rows of a SQLite table into a PostgreSQL table with the same columns except renames.
std::size_t copy_rows(sqlite::Connection& db, pg::Connection& pg, const std::string& select,
                      const std::string& insert, const std::vector<char>& kinds) {
  SqliteQuery q(db, select);
  std::size_t rows = 0;
  std::vector<std::string> keep(kinds.size());
  while (q.step()) {
    std::vector<pg::Param> params;
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      int col = static_cast<int>(i);
      switch (kinds[i]) {
        case 'i':
          params.push_back(static_cast<std::int64_t>(sqlite3_column_int64(q.get(), col)));
          break;
        case 'r':
          params.push_back(sqlite3_column_double(q.get(), col));
          break;
        case 'b':
          params.push_back(sqlite3_column_int64(q.get(), col) != 0);
          break;
        default:
          keep[i] = q.text(col);
          params.push_back(std::string_view(keep[i]));
      }
    }
    pg.run(insert, params);
    ++rows;
  }
  return rows;
}

}  // namespace

void copy_metrics(const std::string& path, pg::Connection& pg, CopyReport& report) {
  sqlite::Connection db(path);
  for (const char* table : {"metric_metrics", "metric_series", "metric_recent", "metric_rollups"}) {
    if (!pg.query(std::string("SELECT 1 FROM ") + table + " LIMIT 1").empty()) {
      throw std::runtime_error(std::string("table ") + table +
                               " already holds rows in the PostgreSQL database; copy only into "
                               "an empty database");
    }
  }
  // Series: a metric row per (namespace, name, dimensions), a series row per unit.
  std::size_t series = 0;
  {
    SqliteQuery q(db, "SELECT id, namespace, name, dimensions, unit, last_put FROM series");
    std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> metric_ids;
    while (q.step()) {
      std::int64_t id = sqlite3_column_int64(q.get(), 0);
      std::string ns = q.text(1), name = q.text(2), dims = q.text(3), unit = q.text(4);
      std::int64_t last_put = sqlite3_column_int64(q.get(), 5);
      auto key = std::make_tuple(ns, name, dims);
      auto it = metric_ids.find(key);
      if (it == metric_ids.end()) {
        auto r = pg.query(kInsertMetric, {std::string_view(ns), std::string_view(name),
                                          std::string_view(dims), last_put});
        it = metric_ids.emplace(key, r.integer(0, 0)).first;
      }
      pg.run(
          "INSERT INTO metric_series (id, metric, unit, last_put) OVERRIDING SYSTEM VALUE "
          "VALUES ($1, $2, $3, $4)",
          {id, it->second, std::string_view(unit), last_put});
      ++series;
    }
  }
  // Open periods as they are; packed chunks unpacked to one row per bucket.
  std::size_t buckets = 0;
  {
    SqliteQuery q(db, "SELECT res, series, ts, n, total, lo, hi, sketch FROM recent");
    while (q.step()) {
      std::string sketch = column_bytes(q.get(), 7);
      pg.run("INSERT INTO metric_recent" + std::string(kInsertBucket),
             {static_cast<std::int64_t>(sqlite3_column_int64(q.get(), 0)),
              static_cast<std::int64_t>(sqlite3_column_int64(q.get(), 1)),
              static_cast<std::int64_t>(sqlite3_column_int64(q.get(), 2)),
              sqlite3_column_double(q.get(), 3), sqlite3_column_double(q.get(), 4),
              sqlite3_column_double(q.get(), 5), sqlite3_column_double(q.get(), 6),
              pg::Bytes{sketch}});
      ++buckets;
    }
  }
  {
    SqliteQuery q(db, "SELECT res, series, ts, data FROM chunks");
    while (q.step()) {
      std::int64_t res = sqlite3_column_int64(q.get(), 0);
      std::int64_t id = sqlite3_column_int64(q.get(), 1);
      std::int64_t ts = sqlite3_column_int64(q.get(), 2);
      std::string data = column_bytes(q.get(), 3);
      metrics::ChunkReader reader(data);
      metrics::SlotView slot;
      while (reader.next(slot)) {
        pg.run("INSERT INTO metric_rollups" + std::string(kInsertBucket),
               {res, id, ts + static_cast<std::int64_t>(slot.slot) * res, slot.sample_count,
                slot.sum, slot.minimum, slot.maximum, pg::Bytes{slot.sketch}});
        ++buckets;
      }
      if (!reader.ok()) {
        throw std::runtime_error("metrics.db: a malformed chunk of series " + std::to_string(id));
      }
    }
  }
  // Cursors and the publishing ledger: same rows, PostgreSQL names.
  std::size_t ledger = 0;
  ledger += copy_rows(db, pg, "SELECT name, position FROM cursors",
                      "INSERT INTO metric_cursors (name, position) VALUES ($1, $2)", {'t', 'i'});
  ledger +=
      copy_rows(db, pg, "SELECT owner, series FROM series_owners",
                "INSERT INTO metric_series_owners (owner, series) VALUES ($1, $2)", {'t', 'i'});
  ledger += copy_rows(
      db, pg, "SELECT owner, reason, count, last_at FROM drop_counts",
      "INSERT INTO metric_drop_counts (owner, reason, count, last_at) VALUES ($1, $2, $3, $4)",
      {'t', 't', 'i', 'r'});
  ledger +=
      copy_rows(db, pg, "SELECT owner, reason, seq, message_id, dimension, at FROM drop_examples",
                "INSERT INTO metric_drop_examples (owner, reason, seq, message_id, "
                "dimension, at) VALUES ($1, $2, $3, $4, $5, $6)",
                {'t', 't', 'i', 't', 't', 'r'});
  ledger += copy_rows(db, pg, "SELECT owner, fingerprint, after, last, replay FROM coverage",
                      "INSERT INTO metric_coverage (owner, fingerprint, seq_after, seq_last, "
                      "replay) VALUES ($1, $2, $3, $4, $5)",
                      {'t', 't', 'i', 'i', 'b'});
  ledger += copy_rows(db, pg, "SELECT owner, cap FROM series_caps",
                      "INSERT INTO metric_series_caps (owner, cap) VALUES ($1, $2)", {'t', 'i'});
  report.tables += 3;
  report.rows += series + buckets + ledger;
  report.details += "metrics series " + std::to_string(series) + ", buckets " +
                    std::to_string(buckets) + ", cursors and ledger " + std::to_string(ledger) +
                    "\n";
}

}  // namespace mailtally::app
