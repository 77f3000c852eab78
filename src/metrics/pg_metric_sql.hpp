// Internal to PgMetricStore (pg_metric_store*.cpp): the "metrics" schema component, the
// array parameters its batched statements take, and the merge of bucket aggregates into a
// bucket table (adding into locked rows, with the sketch merged in C++, or inserting).
//
// Batches are sent as PostgreSQL array literals ('{1,2}', '{"a","b"}') bound to one parameter
// each and expanded with unnest(), so a put of any size is a fixed number of statements.
// Sketches travel as hex text (decode(x, 'hex') in SQL).
//
// Threading: plain functions; a Connection is used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/aggregate.hpp"
#include "metrics/publishing_ledger.hpp"
#include "metrics/types.hpp"
#include "pg/connection.hpp"

namespace mailtally::metrics::pgsql {

// Schema migrations of the "metrics" component (append only).
const std::vector<const char*>& migrations();

// Array literals.
std::string int_array(const std::vector<std::int64_t>& v);
std::string real_array(const std::vector<double>& v);  // shortest round-trip form
std::string text_array(const std::vector<std::string>& v);
std::string hex(std::string_view bytes);

// One bucket's aggregate to merge: the row (res, series, ts) of a bucket table.
struct BucketDelta {
  std::int64_t res = 0;
  std::int64_t series = 0;
  std::int64_t ts = 0;
  Aggregate aggregate;
};

// Merges `rows` (distinct keys) into `table` ("metric_recent" or "metric_rollups") inside the
// caller's transaction: the rows that exist are locked (SELECT ... FOR UPDATE in (res, series,
// ts) order, the order every writer uses), their sketches merged in C++ and one UPDATE adds
// into them (SampleCount and Sum added, Minimum/Maximum by LEAST/GREATEST); the others are
// inserted (ON CONFLICT DO NOTHING; a row another node inserted meanwhile is merged by a
// further round). Each row is written once. Sorts `rows`. Throws pg::Error, or
// std::runtime_error on a malformed stored sketch.
void merge_buckets(pg::Connection& conn, std::string_view table, std::vector<BucketDelta>& rows);

// A series key from its stored columns (namespace, name, dimensions, unit).
SeriesKey series_key(const pg::Result& r, int row, int first_col);

// The stored columns of a normalized key.
struct StoredKey {
  std::string ns, name, dimensions, unit;
  std::string dim_names;  // names joined by \x1f (for the dim_names array)
};
StoredKey stored_key(const MetricKey& normalized, std::string_view unit);

// The ledger's part of a put_published transaction; `ids[i]` is the series id of datum i.
void write_ledger(pg::Connection& conn, const LedgerWrite& ledger,
                  const std::vector<std::int64_t>& ids);

}  // namespace mailtally::metrics::pgsql
