// The PostgreSQL adapter of domain::SuppressionStore (schema component "suppression": tables
// suppressed_destinations and account_suppression), shared by every node on the database. Same
// observable behaviour as storage/sqlite/suppression_store.hpp: addresses compared
// case-insensitively (ASCII lower-casing, key column email_key), listed in byte order of that
// key.
//
// Several nodes: no cache; each call is one statement, committed before it returns, so a change
// on one node is seen by the next read on every node. A put of the same address on two nodes at
// once is one upsert each: the later commit wins, as in SQLite.
//
// Threading: any thread; each call borrows a pooled connection. The pool is borrowed and must
// outlive the store. Database failures throw pg::Error (std::runtime_error).
#pragma once

#include <memory>

#include "domain/suppression.hpp"
#include "pg/pool.hpp"

namespace mailtally::storage {

namespace pgsql {
// Upserts `d` on `conn`, inside the caller's transaction if one is open (the PostgreSQL sending
// store uses it so that a bounce and its suppression-list entry commit together). The
// "suppression" component must have been migrated (PgSuppressionStore::open).
void put_suppressed_in(pg::Connection& conn, const domain::SuppressedDestination& d);
}  // namespace pgsql

class PgSuppressionStore final : public domain::SuppressionStore {
 public:
  // Migrates the "suppression" schema component. Throws pg::Error.
  static std::unique_ptr<PgSuppressionStore> open(pg::Pool& pool);

  void put_suppressed(const domain::SuppressedDestination& d) override;
  std::optional<domain::SuppressedDestination> get_suppressed(std::string_view email) override;
  bool delete_suppressed(std::string_view email) override;
  std::vector<domain::SuppressedDestination> list_suppressed(
      const domain::SuppressionFilter& f) override;
  std::vector<std::string> account_suppressed_reasons() override;
  void set_account_suppressed_reasons(const std::vector<std::string>& reasons) override;

 private:
  explicit PgSuppressionStore(pg::Pool& pool) : pool_(pool) {}
  pg::Pool& pool_;
};

}  // namespace mailtally::storage
