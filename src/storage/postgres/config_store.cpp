// PgConfigStore: opening (schema component "config") and the configuration sets. Identities and
// access keys are in config_store_identities.cpp.
#include <algorithm>
#include <stdexcept>
#include <utility>

#include "storage/json_codec.hpp"
#include "storage/postgres/config_store.hpp"
#include "storage/postgres/sql_util.hpp"

namespace mailtally::storage {

using domain::ConfigurationSetRecord;
using domain::ErrorKind;
using domain::EventDestination;
using domain::Status;
using domain::Subject;

namespace {

// Step i brings the component from version i to i + 1. Append only.
const std::vector<const char*> kMigrations = {
    // 1: as SQLite's migration 1. JSON (json_codec) in BYTEA, see the header.
    R"sql(
CREATE TABLE configuration_sets (
  name TEXT COLLATE "C" PRIMARY KEY,
  record BYTEA NOT NULL,                -- JSON: options and tags
  last_fresh_start DOUBLE PRECISION,    -- NULL when not set
  created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE event_destinations (
  configuration_set TEXT COLLATE "C" NOT NULL
    REFERENCES configuration_sets (name) ON DELETE CASCADE,
  name TEXT COLLATE "C" NOT NULL,
  position INTEGER NOT NULL,            -- creation order within the set, from 0
  definition BYTEA NOT NULL,            -- JSON: everything but the name
  PRIMARY KEY (configuration_set, name)
);
CREATE TABLE identities (
  name TEXT COLLATE "C" PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('EmailAddress', 'Domain')),
  status TEXT NOT NULL
    CHECK (status IN ('Pending', 'Success', 'Failed', 'TemporaryFailure', 'NotStarted')),
  token TEXT NOT NULL,
  default_configuration_set TEXT,       -- NULL when not set; deliberately no foreign key
  tags BYTEA NOT NULL,                  -- JSON array of {"key","value"}
  created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX identities_by_type ON identities (type, name);
CREATE TABLE access_keys (
  access_key_id TEXT COLLATE "C" PRIMARY KEY,
  secret TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL
);
)sql",
};

// One row per destination in position order (one row of NULL destination columns when none).
constexpr std::string_view kGetSet =
    "SELECT s.record, s.last_fresh_start, s.created_at, d.name, d.definition "
    "FROM configuration_sets AS s LEFT JOIN event_destinations AS d "
    "ON d.configuration_set = s.name WHERE s.name = $1 ORDER BY d.position";

// Reads a set with its destinations in one statement (one snapshot, even outside a
// transaction).
std::optional<ConfigurationSetRecord> read_set(pg::Connection& conn, std::string_view name) {
  pg::Result r = conn.query(kGetSet, {name});
  if (r.empty()) return std::nullopt;
  ConfigurationSetRecord record;
  record.set.name = std::string(name);
  decode_set_options(r.bytea(0, 0), record.set);
  if (!r.is_null(0, 1)) record.set.last_fresh_start = r.real(0, 1);
  record.set.created_at = r.real(0, 2);
  if (r.is_null(0, 3)) return record;  // LEFT JOIN found no destination
  record.destinations.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    record.destinations.push_back(decode_destination(r.str(i, 3), r.bytea(i, 4)));
  }
  return record;
}

// Replaces the stored destinations of `set_name` from position `from` on with
// destinations[from...]; positions before `from` are known to be unchanged.
void write_destinations_from(pg::Connection& conn, std::string_view set_name,
                             const std::vector<EventDestination>& destinations, std::size_t from) {
  conn.run("DELETE FROM event_destinations WHERE configuration_set = $1 AND position >= $2",
           {set_name, static_cast<std::int64_t>(from)});
  for (std::size_t i = from; i < destinations.size(); ++i) {
    std::string definition = encode_destination(destinations[i]);
    conn.run(
        "INSERT INTO event_destinations (configuration_set, name, position, definition) "
        "VALUES ($1, $2, $3, $4)",
        {set_name, destinations[i].name, static_cast<std::int64_t>(i), pg::Bytes{definition}});
  }
}

domain::Error not_found(std::string_view name) {
  return {ErrorKind::NotFound,
          Subject::ConfigurationSet,
          "Configuration set " + std::string(name) + " does not exist.",
          std::string(name),
          {}};
}

Status already_exists(const std::string& name) {
  return domain::fail(ErrorKind::AlreadyExists, Subject::ConfigurationSet,
                      "Configuration set " + name + " already exists.", name);
}

}  // namespace

std::unique_ptr<PgConfigStore> PgConfigStore::open(pg::Pool& pool) {
  pg::migrate(pool, "config", kMigrations);
  return std::unique_ptr<PgConfigStore>(new PgConfigStore(pool));
}

// ---- configuration sets ----

Status PgConfigStore::create_configuration_set(const ConfigurationSetRecord& record,
                                               std::size_t max_sets) {
  const std::string& name = record.set.name;
  const std::string options = encode_set_options(record.set);
  return pool_.with_transaction([&](pg::Connection& conn) -> Status {
    // Creates on every node queue here, so each counts the sets the previous one committed
    // (READ COMMITTED: every statement after the lock sees them). Deletes need no lock: they
    // only make room.
    conn.query("SELECT pg_advisory_xact_lock($1::bigint)", {pgsql::kCreateSetLock});
    if (!conn.query("SELECT 1 FROM configuration_sets WHERE name = $1", {name}).empty()) {
      return already_exists(name);
    }
    // Counts no further than max_sets: enough to test the limit without scanning them all.
    auto count = conn.query("SELECT count(*) FROM (SELECT 1 FROM configuration_sets LIMIT $1) c",
                            {pgsql::to_sql_limit(max_sets)});
    if (static_cast<std::size_t>(count.integer(0, 0)) >= max_sets) {
      return domain::fail(
          ErrorKind::LimitExceeded, Subject::ConfigurationSet,
          "Maximum number of configuration sets (" + std::to_string(max_sets) + ") reached.", name);
    }
    conn.run(
        "INSERT INTO configuration_sets (name, record, last_fresh_start, created_at) "
        "VALUES ($1, $2, $3, $4)",
        {name, pg::Bytes{options}, pgsql::opt_real(record.set.last_fresh_start),
         record.set.created_at});
    write_destinations_from(conn, name, record.destinations, 0);
    return base::Ok{};
  });
}

std::optional<ConfigurationSetRecord> PgConfigStore::get_configuration_set(std::string_view name) {
  return pool_.with_connection([&](pg::Connection& conn) { return read_set(conn, name); });
}

Status PgConfigStore::update_configuration_set(
    std::string_view name, const std::function<Status(ConfigurationSetRecord&)>& mutate) {
  // Not pool_.with_transaction: a failed `mutate` must roll back, and `mutate` must not be
  // run again behind the caller's back.
  auto conn = pool_.acquire();
  pg::Transaction tx(*conn);
  // The row lock serializes read-modify-writes (and deletes) of this set across all nodes.
  if (conn->query("SELECT 1 FROM configuration_sets WHERE name = $1 FOR UPDATE", {name}).empty()) {
    return base::unexpected(not_found(name));
  }
  std::optional<ConfigurationSetRecord> before = read_set(*conn, name);
  if (!before) return base::unexpected(not_found(name));
  ConfigurationSetRecord after = *before;
  Status status = mutate(after);
  if (!status) return status;  // nothing written; the transaction rolls back
  if (after.set.name != name) {
    throw std::logic_error("update_configuration_set: mutate renamed configuration set " +
                           std::string(name));
  }
  if (!(after.set == before->set)) {
    std::string options = encode_set_options(after.set);
    conn->run(
        "UPDATE configuration_sets SET record = $2, last_fresh_start = $3, created_at = $4 "
        "WHERE name = $1",
        {name, pg::Bytes{options}, pgsql::opt_real(after.set.last_fresh_start),
         after.set.created_at});
  }
  // Rewrite destinations only from the first one that differs (appending writes one row).
  auto [old_end, new_end] = std::mismatch(before->destinations.begin(), before->destinations.end(),
                                          after.destinations.begin(), after.destinations.end());
  if (old_end != before->destinations.end() || new_end != after.destinations.end()) {
    write_destinations_from(*conn, name, after.destinations,
                            static_cast<std::size_t>(new_end - after.destinations.begin()));
  }
  tx.commit();
  return status;
}

bool PgConfigStore::delete_configuration_set(std::string_view name) {
  // Destinations go with it (ON DELETE CASCADE); affected() counts only the set row.
  return pool_.with_connection([&](pg::Connection& conn) {
    return conn.run("DELETE FROM configuration_sets WHERE name = $1", {name}) > 0;
  });
}

std::vector<std::string> PgConfigStore::list_configuration_sets(std::string_view after,
                                                                std::size_t limit) {
  std::vector<std::string> page;
  if (limit == 0) return page;
  pool_.with_connection([&](pg::Connection& conn) {
    auto r =
        conn.query("SELECT name FROM configuration_sets WHERE name > $1 ORDER BY name LIMIT $2",
                   {after, pgsql::to_sql_limit(limit)});
    page.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) page.push_back(r.str(i, 0));
  });
  return page;
}

}  // namespace mailtally::storage
