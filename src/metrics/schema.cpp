#include "metrics/schema.hpp"

#include <array>
#include <stdexcept>
#include <string>

#include "metrics/chunk.hpp"
#include "metrics/sketch.hpp"

namespace mailtally::metrics::schema {
namespace {

// Migration i brings the schema from version i to i + 1. Append only.
constexpr std::array kMigrations = {
    R"sql(
CREATE TABLE series (
  id INTEGER PRIMARY KEY,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  dimensions TEXT NOT NULL,   -- name \x1e value \x1f ..., sorted by name
  unit TEXT NOT NULL,
  last_put INTEGER NOT NULL,  -- epoch seconds of the latest put (minute precision)
  UNIQUE (namespace, name, dimensions, unit)
) STRICT;

CREATE TABLE recent (
  res INTEGER NOT NULL,       -- bucket width in seconds: 60, or 1 (high resolution)
  part INTEGER NOT NULL,      -- ts / partition_width(res)
  series INTEGER NOT NULL,    -- series.id (no foreign key: hot path)
  ts INTEGER NOT NULL,        -- bucket start, epoch seconds
  n REAL NOT NULL,            -- SampleCount
  total REAL NOT NULL,        -- Sum
  lo REAL NOT NULL,           -- Minimum
  hi REAL NOT NULL,           -- Maximum
  sketch BLOB NOT NULL,       -- metrics::Sketch::encode()
  PRIMARY KEY (res, part, series, ts)
) STRICT, WITHOUT ROWID;

CREATE TABLE chunks (
  res INTEGER NOT NULL,       -- bucket width in seconds: 1, 60, 300 or 3600
  part INTEGER NOT NULL,      -- ts / partition_width(res)
  series INTEGER NOT NULL,
  ts INTEGER NOT NULL,        -- chunk start, a multiple of chunk_width(res)
  data BLOB NOT NULL,         -- metrics/chunk.hpp
  PRIMARY KEY (res, part, series, ts)
) STRICT, WITHOUT ROWID;

CREATE TABLE cursors (
  name TEXT NOT NULL PRIMARY KEY,
  position INTEGER NOT NULL
) STRICT;
)sql",
    // 2: the publishing ledger (metrics/publishing_ledger.hpp).
    R"sql(
CREATE TABLE series_owners (
  owner TEXT NOT NULL,        -- destination key "<configuration set>/<event destination>"
  series INTEGER NOT NULL,    -- series.id
  PRIMARY KEY (owner, series)
) STRICT, WITHOUT ROWID;

CREATE TABLE drop_counts (
  owner TEXT NOT NULL,
  reason TEXT NOT NULL,
  count INTEGER NOT NULL,
  last_at REAL NOT NULL,      -- epoch seconds of the latest drop's event
  PRIMARY KEY (owner, reason)
) STRICT, WITHOUT ROWID;

CREATE TABLE drop_examples (   -- the latest few drops per owner and reason
  owner TEXT NOT NULL,
  reason TEXT NOT NULL,
  seq INTEGER NOT NULL,       -- event log seq
  message_id TEXT NOT NULL,
  dimension TEXT NOT NULL,
  at REAL NOT NULL,
  PRIMARY KEY (owner, reason, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE coverage (        -- event seqs in (after, last] published under a configuration
  owner TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  after INTEGER NOT NULL,
  last INTEGER NOT NULL,
  replay INTEGER NOT NULL,    -- 0: live dispatcher, 1: replay
  PRIMARY KEY (owner, fingerprint, after, replay)
) STRICT, WITHOUT ROWID;

CREATE TABLE series_caps (
  owner TEXT NOT NULL PRIMARY KEY,
  cap INTEGER NOT NULL
) STRICT;
)sql",
};

[[noreturn]] void refuse(const std::string& why) {
  throw std::runtime_error("metrics store: " + why);
}

void check_compatible(sql::Connection& conn) {
  std::int64_t app = conn.query_int("PRAGMA application_id");
  std::int64_t version = conn.query_int("PRAGMA user_version");
  if (app != 0 && app != kApplicationId) {
    refuse("the database belongs to another application (application_id " + std::to_string(app) +
           "); refusing to open it");
  }
  if (version > static_cast<std::int64_t>(kMigrations.size())) {
    refuse("the database has schema version " + std::to_string(version) +
           ", newer than this build knows; refusing to open it");
  }
  if (version == 0 && conn.query_int("SELECT count(*) FROM sqlite_schema") != 0) {
    refuse("the database already has tables but no metrics schema; refusing to open it");
  }
}

// mt_sketch_merge(a, b): the encoded merge of two encoded sketches.
void sketch_merge(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto view = [](sqlite3_value* v) {
    const auto* p = static_cast<const char*>(sqlite3_value_blob(v));
    return std::string_view(p ? p : "", static_cast<std::size_t>(sqlite3_value_bytes(v)));
  };
  auto a = Sketch::decode(view(argv[0]));
  auto b = Sketch::decode(view(argv[1]));
  if (!a || !b) {
    sqlite3_result_error(ctx, "mt_sketch_merge: malformed sketch", -1);
    return;
  }
  a->merge(*b);
  std::string out = a->encode();
  sqlite3_result_blob(ctx, out.data(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

// mt_chunk_merge(a, b): the encoded merge of two encoded chunks.
void chunk_merge(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto view = [](sqlite3_value* v) {
    const auto* p = static_cast<const char*>(sqlite3_value_blob(v));
    return std::string_view(p ? p : "", static_cast<std::size_t>(sqlite3_value_bytes(v)));
  };
  auto merged = merge_chunks(view(argv[0]), view(argv[1]));
  if (!merged) {
    sqlite3_result_error(ctx, "mt_chunk_merge: malformed chunk", -1);
    return;
  }
  sqlite3_result_blob(ctx, merged->data(), static_cast<int>(merged->size()), SQLITE_TRANSIENT);
}

}  // namespace

std::int64_t chunk_width(std::int64_t res) {
  switch (res) {
    case 1:
      return 60;
    case 60:
      return 3600;
    case 300:
      return 6 * 3600;
    default:
      return 86400;
  }
}

std::int64_t partition_width(std::int64_t res) {
  switch (res) {
    case 1:
      return 3600;
    case 60:
      return 86400;
    case 300:
      return 7 * 86400;
    default:
      return 30 * 86400;
  }
}

std::int64_t partition_of(std::int64_t ts, std::int64_t res) {
  const std::int64_t w = partition_width(res);
  const std::int64_t q = ts / w;
  return (ts % w != 0 && ts < 0) ? q - 1 : q;
}

void configure(sql::Connection& conn) {
  conn.exec("PRAGMA busy_timeout = 5000");
  conn.exec("PRAGMA synchronous = NORMAL");
  conn.exec("PRAGMA journal_size_limit = 67108864");
  conn.exec("PRAGMA cache_size = -32768");  // 32 MiB page cache per connection
  int rc = sqlite3_create_function_v2(conn.handle(), "mt_sketch_merge", 2,
                                      SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                      nullptr, sketch_merge, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) conn.fail(rc, "create function mt_sketch_merge");
  rc = sqlite3_create_function_v2(conn.handle(), "mt_chunk_merge", 2,
                                  SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                  chunk_merge, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) conn.fail(rc, "create function mt_chunk_merge");
}

void migrate(sql::Connection& conn) {
  check_compatible(conn);
  if (conn.query_text("PRAGMA journal_mode = WAL") != "wal") {
    refuse("cannot switch the database to WAL mode");
  }
  for (std::size_t step = 0; step < kMigrations.size(); ++step) {
    if (conn.query_int("PRAGMA user_version") > static_cast<std::int64_t>(step)) continue;
    sql::Transaction tx(conn);
    check_compatible(conn);
    if (conn.query_int("PRAGMA user_version") > static_cast<std::int64_t>(step)) continue;
    conn.exec(kMigrations[step]);
    conn.exec(("PRAGMA user_version = " + std::to_string(step + 1)).c_str());
    if (step == 0) conn.exec(("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
    tx.commit();
  }
}

}  // namespace mailtally::metrics::schema
