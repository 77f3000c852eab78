// The PostgreSQL LeaseStore (domain/lease.hpp): one row per lease in table `leases`, shared by
// every node on the database. Acquiring is one upsert that only takes the row when it is free,
// ended, or already the caller's, so two nodes never both hold a lease. Times are the callers'
// clocks (epoch seconds): nodes' clocks must agree to well within a lease's length (NTP).
//
// Threading: any thread; each call is one statement on a pooled connection. The pool is
// borrowed and must outlive the store.
#pragma once

#include <memory>

#include "domain/lease.hpp"
#include "pg/pool.hpp"

namespace mailtally::storage {

class PgLeaseStore final : public domain::LeaseStore {
 public:
  // Migrates the "leases" schema component. Throws pg::Error.
  static std::unique_ptr<PgLeaseStore> open(pg::Pool& pool);

  bool try_acquire(std::string_view name, std::string_view owner, double now,
                   double ttl_seconds) override;
  void release(std::string_view name, std::string_view owner) override;

 private:
  explicit PgLeaseStore(pg::Pool& pool) : pool_(pool) {}
  pg::Pool& pool_;
};

}  // namespace mailtally::storage
