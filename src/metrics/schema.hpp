// The metrics database schema (its own file, e.g. metrics.db in the data dir) as versioned,
// append-only migrations (PRAGMA user_version = migrations applied, each in its own write
// transaction), the per-connection settings, and every statement the store runs.
//
// Tables:
//   series  (id, namespace, name, dimensions, unit, last_put): one row per series.
//   recent  (res, part, series, ts, n, total, lo, hi, sketch): what put() writes, one aggregate
//           per series and res-second bucket starting at ts, res 60 (every datum) or 1
//           (StorageResolution 1). compact() packs closed periods into chunks and deletes them.
//   chunks  (res, part, series, ts, data): packed aggregates (metrics/chunk.hpp) of one series
//           over chunk_width(res) seconds from ts, res in {1, 60, 300, 3600}; minute rows are
//           rolled up into the 300 and 3600 chunks when packed.
//   cursors (name, position): positions advanced atomically with puts.
// In both data tables part = ts / partition_width(res) leads the primary key, so retention
// deletes whole partitions (key ranges) and one series' range read is one short seek per
// partition.
#pragma once

#include <cstdint>

#include "metrics/sqlite.hpp"

namespace mailtally::metrics::schema {

inline constexpr std::int64_t kApplicationId = 0x4d544c4d;  // "MTLM"

// Partition width (seconds) of each resolution's rows, and the span of one chunk.
std::int64_t partition_width(std::int64_t res);
std::int64_t chunk_width(std::int64_t res);
// The partition of a row stamped `ts` (floor division, also for times before 1970).
std::int64_t partition_of(std::int64_t ts, std::int64_t res);

// busy timeout, synchronous=NORMAL (commits survive kill -9), the merge SQL functions.
void configure(sql::Connection& conn);
// WAL mode and the schema at its latest version; throws std::runtime_error when the file is
// another application's or newer than this build.
void migrate(sql::Connection& conn);

// ---- statements (slot, SQL) ----
inline constexpr sql::Sql kLoadSeries{
    0, "SELECT id, namespace, name, dimensions, unit, last_put FROM series ORDER BY id"};
inline constexpr sql::Sql kInsertSeries{1,
                                        "INSERT INTO series (id, namespace, name, dimensions, "
                                        "unit, last_put) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
inline constexpr sql::Sql kTouchSeries{2, "UPDATE series SET last_put = ?2 WHERE id = ?1"};
inline constexpr sql::Sql kDeleteSeries{3, "DELETE FROM series WHERE id = ?1"};
inline constexpr sql::Sql kSetCursor{
    4,
    "INSERT INTO cursors (name, position) VALUES (?1, ?2) "
    "ON CONFLICT (name) DO UPDATE SET position = excluded.position"};
inline constexpr sql::Sql kGetCursor{5, "SELECT position FROM cursors WHERE name = ?1"};

inline constexpr sql::Sql kUpsertRecent{
    6,
    "INSERT INTO recent (res, part, series, ts, n, total, lo, hi, sketch) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (res, part, series, ts) DO UPDATE SET n = n + excluded.n, "
    "total = total + excluded.total, lo = min(lo, excluded.lo), hi = max(hi, excluded.hi), "
    "sketch = mt_sketch_merge(sketch, excluded.sketch)"};
inline constexpr sql::Sql kReadRecent{
    7,
    "SELECT ts, n, total, lo, hi, sketch FROM recent WHERE res = ?1 AND part = ?2 "
    "AND series = ?3 AND ts >= ?4 AND ts < ?5 ORDER BY ts"};
inline constexpr sql::Sql kUpsertChunk{
    8,
    "INSERT INTO chunks (res, part, series, ts, data) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (res, part, series, ts) DO UPDATE SET data = mt_chunk_merge(data, excluded.data)"};
inline constexpr sql::Sql kReadChunks{
    9,
    "SELECT ts, data FROM chunks WHERE res = ?1 AND part = ?2 AND series = ?3 AND ts >= ?4 "
    "AND ts < ?5 ORDER BY ts"};

// Packing: the recent rows of a partition and series range before a horizon.
inline constexpr sql::Sql kNextRecentPartition{
    10, "SELECT part FROM recent WHERE res = ?1 AND part >= ?2 ORDER BY part LIMIT 1"};
inline constexpr sql::Sql kMaxSeriesRecent{
    11, "SELECT max(series) FROM recent WHERE res = ?1 AND part = ?2"};
inline constexpr sql::Sql kPackSelect{
    12,
    "SELECT series, ts, n, total, lo, hi, sketch FROM recent WHERE res = ?1 AND part = ?2 "
    "AND series >= ?3 AND series < ?4 AND ts < ?5 ORDER BY series, ts"};
inline constexpr sql::Sql kPackDelete{
    13,
    "DELETE FROM recent WHERE res = ?1 AND part = ?2 AND series >= ?3 AND series < ?4 "
    "AND ts < ?5"};

// Retention: whole partitions, a series range per transaction.
inline constexpr sql::Sql kOldestChunkPartition{
    14, "SELECT part FROM chunks WHERE res = ?1 ORDER BY part LIMIT 1"};
inline constexpr sql::Sql kMaxSeriesChunks{
    15, "SELECT max(series) FROM chunks WHERE res = ?1 AND part = ?2"};
inline constexpr sql::Sql kDeleteChunks{
    16, "DELETE FROM chunks WHERE res = ?1 AND part = ?2 AND series >= ?3 AND series < ?4"};
inline constexpr sql::Sql kDeleteRecent{
    17, "DELETE FROM recent WHERE res = ?1 AND part = ?2 AND series >= ?3 AND series < ?4"};

}  // namespace mailtally::metrics::schema
