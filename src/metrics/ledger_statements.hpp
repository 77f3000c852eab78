// SQL of the publishing ledger (tables of schema migration 2). Statement cache slots 18-31
// (metrics/schema.hpp uses 0-17).
#pragma once

#include "metrics/sqlite.hpp"

namespace mailtally::metrics::schema {

inline constexpr sql::Sql kClaimSeries{
    18, "INSERT OR IGNORE INTO series_owners (owner, series) VALUES (?1, ?2)"};
inline constexpr sql::Sql kLoadOwners{19, "SELECT owner, series FROM series_owners"};
inline constexpr sql::Sql kCountDrop{
    20,
    "INSERT INTO drop_counts (owner, reason, count, last_at) VALUES (?1, ?2, 1, ?3) "
    "ON CONFLICT (owner, reason) DO UPDATE SET count = count + 1, "
    "last_at = max(last_at, excluded.last_at)"};
inline constexpr sql::Sql kAddDropExample{
    21,
    "INSERT OR REPLACE INTO drop_examples (owner, reason, seq, message_id, dimension, at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
// Keeps the newest ?3 examples of owner + reason.
inline constexpr sql::Sql kTrimDropExamples{
    22,
    "DELETE FROM drop_examples WHERE owner = ?1 AND reason = ?2 AND seq < "
    "(SELECT seq FROM drop_examples WHERE owner = ?1 AND reason = ?2 "
    "ORDER BY seq DESC LIMIT 1 OFFSET ?3 - 1)"};
inline constexpr sql::Sql kReadDropCounts{
    23, "SELECT owner, reason, count, last_at FROM drop_counts ORDER BY owner, reason"};
inline constexpr sql::Sql kReadDropExamples{
    24,
    "SELECT seq, message_id, dimension, at FROM drop_examples WHERE owner = ?1 AND reason = ?2 "
    "ORDER BY seq DESC LIMIT ?3"};
// The live row that ends where a new live range starts (to extend it).
inline constexpr sql::Sql kExtendLive{
    25,
    "UPDATE coverage SET last = ?4 WHERE owner = ?1 AND fingerprint = ?2 AND replay = 0 "
    "AND last = ?3"};
inline constexpr sql::Sql kInsertCoverage{
    26,
    "INSERT INTO coverage (owner, fingerprint, after, last, replay) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (owner, fingerprint, after, replay) DO UPDATE SET "
    "last = max(last, excluded.last)"};
inline constexpr sql::Sql kReadCoverage{
    27, "SELECT after, last FROM coverage WHERE owner = ?1 AND fingerprint = ?2 ORDER BY after"};
inline constexpr sql::Sql kSetCap{28,
                                  "INSERT INTO series_caps (owner, cap) VALUES (?1, ?2) "
                                  "ON CONFLICT (owner) DO UPDATE SET cap = excluded.cap"};
inline constexpr sql::Sql kDeleteCap{29, "DELETE FROM series_caps WHERE owner = ?1"};
inline constexpr sql::Sql kReadCaps{30, "SELECT owner, cap FROM series_caps ORDER BY owner"};

// Examples kept per owner and reason.
inline constexpr std::int64_t kDropExamplesKept = 10;

}  // namespace mailtally::metrics::schema
