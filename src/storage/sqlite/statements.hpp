// Internal to the SQLite store: the SQL of every cached statement, each with a fixed slot in the
// per-connection statement cache, and the write-transaction helper shared by the store's
// translation units.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string_view>

#include "storage/sqlite/connection_pool.hpp"
#include "storage/sqlite/db.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace mailtally::storage::sqlite {

struct Sql {
  std::size_t slot;
  std::string_view text;
};

// Runs `sql` on `conn`'s cached statement for it.
inline Statement use(Connection& conn, const Sql& sql) { return conn.cached(sql.slot, sql.text); }

// SQLite integers are signed 64-bit; larger limits mean "no limit".
inline std::int64_t to_sql_limit(std::size_t n) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(n < kMax ? n : kMax);
}

// ---- configuration sets ----

// One row per destination (or one row with NULL destination columns when there is none).
inline constexpr Sql kGetSet{0,
                             "SELECT s.record, s.last_fresh_start, s.created_at, d.name, "
                             "d.position, d.definition FROM configuration_sets AS s "
                             "LEFT JOIN event_destinations AS d ON d.configuration_set = s.name "
                             "WHERE s.name = ?1"};
inline constexpr Sql kListSets{
    1, "SELECT name FROM configuration_sets WHERE name > ?1 ORDER BY name LIMIT ?2"};
inline constexpr Sql kSetExists{2, "SELECT 1 FROM configuration_sets WHERE name = ?1"};
// Counts at most ?1 rows: enough to test a limit without scanning a huge table.
inline constexpr Sql kCountSets{3,
                                "SELECT count(*) FROM (SELECT 1 FROM configuration_sets LIMIT ?1)"};
inline constexpr Sql kInsertSet{4,
                                "INSERT INTO configuration_sets "
                                "(name, record, last_fresh_start, created_at) "
                                "VALUES (?1, ?2, ?3, ?4)"};
inline constexpr Sql kUpdateSet{5,
                                "UPDATE configuration_sets SET record = ?2, "
                                "last_fresh_start = ?3, created_at = ?4 WHERE name = ?1"};
inline constexpr Sql kDeleteSet{6, "DELETE FROM configuration_sets WHERE name = ?1"};
inline constexpr Sql kDeleteDestinationsFrom{
    7, "DELETE FROM event_destinations WHERE configuration_set = ?1 AND position >= ?2"};
inline constexpr Sql kInsertDestination{8,
                                        "INSERT INTO event_destinations "
                                        "(configuration_set, name, position, definition) "
                                        "VALUES (?1, ?2, ?3, ?4)"};

// ---- identities ----

#define MAILTALLY_IDENTITY_COLUMNS \
  "name, type, status, token, default_configuration_set, tags, created_at"
inline constexpr Sql kPutIdentity{
    9, "INSERT INTO identities (" MAILTALLY_IDENTITY_COLUMNS
       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (name) DO UPDATE SET "
       "type = excluded.type, status = excluded.status, token = excluded.token, "
       "default_configuration_set = excluded.default_configuration_set, tags = excluded.tags, "
       "created_at = excluded.created_at"};
inline constexpr Sql kGetIdentity{
    10, "SELECT " MAILTALLY_IDENTITY_COLUMNS " FROM identities WHERE name = ?1"};
inline constexpr Sql kDeleteIdentity{11, "DELETE FROM identities WHERE name = ?1"};
inline constexpr Sql kListIdentities{12, "SELECT " MAILTALLY_IDENTITY_COLUMNS
                                         " FROM identities WHERE name > ?1 "
                                         "ORDER BY name LIMIT ?2"};
inline constexpr Sql kListIdentitiesOfType{13, "SELECT " MAILTALLY_IDENTITY_COLUMNS
                                               " FROM identities WHERE type = ?3 AND name > ?1 "
                                               "ORDER BY name LIMIT ?2"};
#undef MAILTALLY_IDENTITY_COLUMNS

// ---- access keys ----

inline constexpr Sql kPutKey{14,
                             "INSERT INTO access_keys (access_key_id, secret, name, created_at) "
                             "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (access_key_id) DO UPDATE SET "
                             "secret = excluded.secret, name = excluded.name, "
                             "created_at = excluded.created_at"};
inline constexpr Sql kGetKey{
    15, "SELECT access_key_id, secret, name, created_at FROM access_keys WHERE access_key_id = ?1"};
inline constexpr Sql kListKeys{
    16, "SELECT access_key_id, secret, name, created_at FROM access_keys ORDER BY access_key_id"};
inline constexpr Sql kDeleteKey{17, "DELETE FROM access_keys WHERE access_key_id = ?1"};

// Every statement must have its own slot, below the cache size.
constexpr bool slots_are_distinct() {
  constexpr const Sql* all[] = {&kGetSet,
                                &kListSets,
                                &kSetExists,
                                &kCountSets,
                                &kInsertSet,
                                &kUpdateSet,
                                &kDeleteSet,
                                &kDeleteDestinationsFrom,
                                &kInsertDestination,
                                &kPutIdentity,
                                &kGetIdentity,
                                &kDeleteIdentity,
                                &kListIdentities,
                                &kListIdentitiesOfType,
                                &kPutKey,
                                &kGetKey,
                                &kListKeys,
                                &kDeleteKey};
  bool used[Connection::kMaxCachedStatements] = {};
  for (const Sql* sql : all) {
    if (sql->slot >= Connection::kMaxCachedStatements || used[sql->slot]) return false;
    used[sql->slot] = true;
  }
  return true;
}
static_assert(slots_are_distinct());

}  // namespace mailtally::storage::sqlite

namespace mailtally::storage {

template <class Body>
auto SqliteStore::write(Body&& body) {
  sqlite::ConnectionPool::Lease conn = pool_->acquire();
  std::lock_guard lock(write_mu_);  // released after the transaction ends (declared before it)
  sqlite::Transaction tx(*conn);
  return body(*conn, tx);
}

}  // namespace mailtally::storage
