// The PostgreSQL adapter of domain::TemplateStore (schema component "templates", table
// email_templates), shared by every node on the database. Same observable behaviour as
// storage/sqlite/template_store.hpp.
//
// Several nodes: no cache; a change committed on one node is seen by the next read on every
// node. create() checks kMaxTemplates and inserts in one transaction under a transaction-level
// advisory lock (pgsql::kCreateTemplateLock), so nodes creating at once never exceed the limit.
//
// Storage: names are TEXT COLLATE "C" (byte order, as SQLite). The parts (subject, text, html)
// are BYTEA: they are kept byte-exact, NUL bytes and bytes that are not UTF-8 included, which a
// UTF8 database refuses in TEXT. NULL parts were not given. created_at: DOUBLE PRECISION epoch
// seconds.
//
// Threading: any thread; each call is one statement or transaction on a pooled connection. The
// pool is borrowed and must outlive the store. Database failures throw pg::Error
// (std::runtime_error).
#pragma once

#include <memory>

#include "domain/template_store.hpp"
#include "pg/pool.hpp"

namespace mailtally::storage {

class PgTemplateStore final : public domain::TemplateStore {
 public:
  // Migrates the "templates" schema component. Throws pg::Error.
  static std::unique_ptr<PgTemplateStore> open(pg::Pool& pool);

  domain::TemplateWrite create(const domain::EmailTemplate& t) override;
  domain::TemplateWrite update(const domain::EmailTemplate& t) override;
  domain::TemplateWrite remove(std::string_view name) override;
  std::optional<domain::EmailTemplate> get(std::string_view name) override;
  std::vector<domain::TemplateSummary> list(std::string_view after, std::size_t limit) override;

 private:
  explicit PgTemplateStore(pg::Pool& pool) : pool_(pool) {}
  pg::Pool& pool_;
};

}  // namespace mailtally::storage
