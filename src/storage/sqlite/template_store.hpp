// The SQLite adapter of domain::TemplateStore over the same database file as SqliteStore
// (schema migration 3, table email_templates). It has its own connection pool, so its statement
// slots are its own.
//
// Threading: every method may be called from any number of threads. Reads borrow a pooled
// connection; writes also take this store's write mutex and run in one BEGIN IMMEDIATE
// transaction. Database failures throw std::runtime_error (sqlite::SqliteError).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "domain/template_store.hpp"
#include "storage/sqlite/connection_pool.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace mailtally::storage {

namespace sqlite {
class ConnectionPool;
}  // namespace sqlite

class SqliteTemplateStore final : public domain::TemplateStore {
 public:
  // Opens (migrating as needed) the existing database at `path`; the file must already exist
  // (SqliteStore::open creates it).
  static std::unique_ptr<SqliteTemplateStore> open(const std::string& path,
                                                   SqliteOptions options = {});
  ~SqliteTemplateStore() override;
  SqliteTemplateStore(const SqliteTemplateStore&) = delete;
  SqliteTemplateStore& operator=(const SqliteTemplateStore&) = delete;

  domain::TemplateWrite create(const domain::EmailTemplate& t) override;
  domain::TemplateWrite update(const domain::EmailTemplate& t) override;
  domain::TemplateWrite remove(std::string_view name) override;
  std::optional<domain::EmailTemplate> get(std::string_view name) override;
  std::vector<domain::TemplateSummary> list(std::string_view after, std::size_t limit) override;

 private:
  explicit SqliteTemplateStore(std::unique_ptr<sqlite::ConnectionPool> pool);

  std::unique_ptr<sqlite::ConnectionPool> pool_;
  std::mutex& write_mu_ = sqlite::shared_write_mutex();  // taken after a connection lease, held for
                                                         // the whole transaction
};

}  // namespace mailtally::storage
