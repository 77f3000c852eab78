#include "storage/postgres/template_store.hpp"

#include "storage/postgres/sql_util.hpp"

namespace mailtally::storage {

namespace {

// Step i brings the component from version i to i + 1. Append only.
const std::vector<const char*> kMigrations = {
    // 1: as SQLite's migration 3; the parts in BYTEA (see the header).
    R"sql(
CREATE TABLE email_templates (
  name TEXT COLLATE "C" PRIMARY KEY,
  subject BYTEA,
  text BYTEA,
  html BYTEA,
  created_at DOUBLE PRECISION NOT NULL
);
)sql",
};

}  // namespace

std::unique_ptr<PgTemplateStore> PgTemplateStore::open(pg::Pool& pool) {
  pg::migrate(pool, "templates", kMigrations);
  return std::unique_ptr<PgTemplateStore>(new PgTemplateStore(pool));
}

domain::TemplateWrite PgTemplateStore::create(const domain::EmailTemplate& t) {
  return pool_.with_transaction([&](pg::Connection& conn) {
    // Creates on every node queue here, so each counts what the previous one committed.
    conn.query("SELECT pg_advisory_xact_lock($1::bigint)", {pgsql::kCreateTemplateLock});
    // As SQLite: the limit is checked first (a taken name at the limit is LimitExceeded).
    auto count = conn.query("SELECT count(*) FROM email_templates");
    if (static_cast<std::size_t>(count.integer(0, 0)) >= domain::kMaxTemplates) {
      return domain::TemplateWrite::LimitExceeded;
    }
    auto inserted = conn.run(
        "INSERT INTO email_templates (name, subject, text, html, created_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
        {t.name, pgsql::opt_bytes(t.subject), pgsql::opt_bytes(t.text), pgsql::opt_bytes(t.html),
         t.created_at});
    return inserted == 0 ? domain::TemplateWrite::AlreadyExists : domain::TemplateWrite::Done;
  });
}

domain::TemplateWrite PgTemplateStore::update(const domain::EmailTemplate& t) {
  return pool_.with_connection([&](pg::Connection& conn) {
    auto updated = conn.run(
        "UPDATE email_templates SET subject = $2, text = $3, html = $4 WHERE name = $1",
        {t.name, pgsql::opt_bytes(t.subject), pgsql::opt_bytes(t.text), pgsql::opt_bytes(t.html)});
    return updated == 0 ? domain::TemplateWrite::NotFound : domain::TemplateWrite::Done;
  });
}

domain::TemplateWrite PgTemplateStore::remove(std::string_view name) {
  return pool_.with_connection([&](pg::Connection& conn) {
    auto deleted = conn.run("DELETE FROM email_templates WHERE name = $1", {name});
    return deleted == 0 ? domain::TemplateWrite::NotFound : domain::TemplateWrite::Done;
  });
}

std::optional<domain::EmailTemplate> PgTemplateStore::get(std::string_view name) {
  return pool_.with_connection([&](pg::Connection& conn) -> std::optional<domain::EmailTemplate> {
    auto r = conn.query(
        "SELECT name, subject, text, html, created_at FROM email_templates WHERE name = $1",
        {name});
    if (r.empty()) return std::nullopt;
    domain::EmailTemplate t;
    t.name = r.str(0, 0);
    t.subject = pgsql::opt_bytea(r, 0, 1);
    t.text = pgsql::opt_bytea(r, 0, 2);
    t.html = pgsql::opt_bytea(r, 0, 3);
    t.created_at = r.real(0, 4);
    return t;
  });
}

std::vector<domain::TemplateSummary> PgTemplateStore::list(std::string_view after,
                                                           std::size_t limit) {
  std::vector<domain::TemplateSummary> out;
  pool_.with_connection([&](pg::Connection& conn) {
    auto r = conn.query(
        "SELECT name, created_at FROM email_templates WHERE name > $1 ORDER BY name LIMIT $2",
        {after, pgsql::to_sql_limit(limit)});
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.str(i, 0), r.real(i, 1)});
  });
  return out;
}

}  // namespace mailtally::storage
