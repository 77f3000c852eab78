// The SQLite adapter of domain::SuppressionStore (tables suppressed_destinations and
// account_suppression, schema migration 3), over the same database file as SqliteStore.
//
// Threading: every method may be called from any number of threads (pooled connections; each
// write is one BEGIN IMMEDIATE transaction, serialized with the other stores by SQLite's write
// lock and busy timeout). Database failures throw std::runtime_error (sqlite::SqliteError).
#pragma once

#include <memory>
#include <string>

#include "domain/suppression.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace mailtally::sqlite {
class Connection;
}  // namespace mailtally::sqlite

namespace mailtally::storage {

namespace sqlite {
class ConnectionPool;
// Upserts `d` on `conn` inside the caller's open write transaction (SqliteSendingStore::complete
// uses it so that a bounce and its suppression-list entry commit together).
void put_suppressed_in(mailtally::sqlite::Connection& conn, const domain::SuppressedDestination& d);
}  // namespace sqlite

class SqliteSuppressionStore final : public domain::SuppressionStore {
 public:
  // Opens the existing or new database at `path` (migrating as needed).
  static std::unique_ptr<SqliteSuppressionStore> open(const std::string& path,
                                                      SqliteOptions options = {});
  ~SqliteSuppressionStore() override;
  SqliteSuppressionStore(const SqliteSuppressionStore&) = delete;
  SqliteSuppressionStore& operator=(const SqliteSuppressionStore&) = delete;

  void put_suppressed(const domain::SuppressedDestination& d) override;
  std::optional<domain::SuppressedDestination> get_suppressed(std::string_view email) override;
  bool delete_suppressed(std::string_view email) override;
  std::vector<domain::SuppressedDestination> list_suppressed(
      const domain::SuppressionFilter& f) override;
  std::vector<std::string> account_suppressed_reasons() override;
  void set_account_suppressed_reasons(const std::vector<std::string>& reasons) override;

 private:
  explicit SqliteSuppressionStore(std::unique_ptr<sqlite::ConnectionPool> pool);
  std::unique_ptr<sqlite::ConnectionPool> pool_;
};

}  // namespace mailtally::storage
