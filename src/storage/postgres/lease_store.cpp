#include "storage/postgres/lease_store.hpp"

namespace mailtally::storage {

std::unique_ptr<PgLeaseStore> PgLeaseStore::open(pg::Pool& pool) {
  pg::migrate(pool, "leases", {R"sql(
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  until DOUBLE PRECISION NOT NULL   -- epoch seconds; free once passed
))sql"});
  return std::unique_ptr<PgLeaseStore>(new PgLeaseStore(pool));
}

bool PgLeaseStore::try_acquire(std::string_view name, std::string_view owner, double now,
                               double ttl_seconds) {
  // The conflict branch only fires (and returns a row) when the lease is ours or has ended.
  return pool_.with_connection([&](pg::Connection& c) {
    return c.query(
                "INSERT INTO leases (name, owner, until) VALUES ($1, $2, $3) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                "WHERE leases.owner = excluded.owner OR leases.until < $4 "
                "RETURNING 1",
                {name, owner, now + ttl_seconds, now})
               .rows() == 1;
  });
}

void PgLeaseStore::release(std::string_view name, std::string_view owner) {
  pool_.with_connection([&](pg::Connection& c) {
    c.run("DELETE FROM leases WHERE name = $1 AND owner = $2", {name, owner});
  });
}

}  // namespace mailtally::storage
