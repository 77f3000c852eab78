// The database schema as an ordered list of migrations, and the per-connection settings.
//
// Schema version = PRAGMA user_version = number of migrations applied. Each migration runs in its
// own write transaction together with the user_version bump, so a crash leaves the database at a
// whole version. Migrations are append-only: never edit a released step, add a new one.
#pragma once

#include <cstdint>

#include "storage/sqlite/db.hpp"

namespace mailtally::storage::sqlite {

// Marks the file as a mailtally store (PRAGMA application_id); other SQLite files are refused.
inline constexpr std::int64_t kApplicationId = 0x4d544c59;  // "MTLY"

// The schema version this build writes and understands.
std::int64_t latest_schema_version();

// Per-connection settings: busy timeout, foreign keys, synchronous level. `full_sync` selects
// synchronous=FULL (fsync of the WAL at every commit) instead of NORMAL.
void configure_connection(Connection& conn, bool full_sync);

// Switches the database to WAL and brings the schema up to latest_schema_version(). Safe when
// several processes open the same file at once (each step re-checks the version under the write
// lock). Throws std::runtime_error when the database is newer than this build, belongs to
// another application, or a step fails.
void migrate(Connection& conn);

}  // namespace mailtally::storage::sqlite
