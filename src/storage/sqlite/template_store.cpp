#include "storage/sqlite/template_store.hpp"

#include <sys/stat.h>

#include <stdexcept>

#include "storage/sqlite/connection_pool.hpp"
#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/statements.hpp"

namespace mailtally::storage {

using sqlite::Connection;
using sqlite::Sql;

namespace {

// This store's own connections: slots start at 0.
constexpr Sql kInsert{0,
                      "INSERT INTO email_templates (name, subject, text, html, created_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING"};
constexpr Sql kUpdate{1,
                      "UPDATE email_templates SET subject = ?2, text = ?3, html = ?4 "
                      "WHERE name = ?1"};
constexpr Sql kDelete{2, "DELETE FROM email_templates WHERE name = ?1"};
constexpr Sql kGet{3,
                   "SELECT name, subject, text, html, created_at FROM email_templates "
                   "WHERE name = ?1"};
constexpr Sql kList{4,
                    "SELECT name, created_at FROM email_templates WHERE name > ?1 "
                    "ORDER BY name LIMIT ?2"};
constexpr Sql kCount{5, "SELECT count(*) FROM email_templates"};

std::unique_ptr<Connection> open_connection(const std::string& path, const SqliteOptions& o) {
  auto conn = std::make_unique<Connection>(path, o.exclusive_process ? "unix-excl" : nullptr);
  sqlite::configure_connection(*conn, o.durability == Durability::PowerLoss);
  return conn;
}

void bind_opt(sqlite::Statement& s, int i, const std::optional<std::string>& v) {
  if (v) {
    s.bind(i, *v);
  } else {
    s.bind_null(i);
  }
}

std::optional<std::string> opt_text(const sqlite::Statement& s, int column) {
  if (s.is_null(column)) return std::nullopt;
  return std::string(s.text(column));
}

}  // namespace

std::unique_ptr<SqliteTemplateStore> SqliteTemplateStore::open(const std::string& path,
                                                               SqliteOptions options) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) {
    throw std::runtime_error("template store: the database file '" + path + "' must exist");
  }
  auto first = open_connection(path, options);
  sqlite::migrate(*first);
  auto pool = std::make_unique<sqlite::ConnectionPool>(
      [path, options] { return open_connection(path, options); }, options.max_connections);
  pool->adopt(std::move(first));
  return std::unique_ptr<SqliteTemplateStore>(new SqliteTemplateStore(std::move(pool)));
}

SqliteTemplateStore::SqliteTemplateStore(std::unique_ptr<sqlite::ConnectionPool> pool)
    : pool_(std::move(pool)) {}

SqliteTemplateStore::~SqliteTemplateStore() = default;

domain::TemplateWrite SqliteTemplateStore::create(const domain::EmailTemplate& t) {
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  {
    auto count = use(*conn, kCount);
    count.step();
    if (static_cast<std::size_t>(count.integer(0)) >= domain::kMaxTemplates) {
      return domain::TemplateWrite::LimitExceeded;
    }
  }
  auto s = use(*conn, kInsert);
  s.bind(1, t.name);
  bind_opt(s, 2, t.subject);
  bind_opt(s, 3, t.text);
  bind_opt(s, 4, t.html);
  s.bind(5, t.created_at);
  if (s.run() == 0) return domain::TemplateWrite::AlreadyExists;
  tx.commit();
  return domain::TemplateWrite::Done;
}

domain::TemplateWrite SqliteTemplateStore::update(const domain::EmailTemplate& t) {
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  auto s = use(*conn, kUpdate);
  s.bind(1, t.name);
  bind_opt(s, 2, t.subject);
  bind_opt(s, 3, t.text);
  bind_opt(s, 4, t.html);
  if (s.run() == 0) return domain::TemplateWrite::NotFound;
  tx.commit();
  return domain::TemplateWrite::Done;
}

domain::TemplateWrite SqliteTemplateStore::remove(std::string_view name) {
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  if (use(*conn, kDelete).bind(1, name).run() == 0) return domain::TemplateWrite::NotFound;
  tx.commit();
  return domain::TemplateWrite::Done;
}

std::optional<domain::EmailTemplate> SqliteTemplateStore::get(std::string_view name) {
  auto conn = pool_->acquire();
  auto s = use(*conn, kGet);
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  domain::EmailTemplate t;
  t.name = std::string(s.text(0));
  t.subject = opt_text(s, 1);
  t.text = opt_text(s, 2);
  t.html = opt_text(s, 3);
  t.created_at = s.real(4);
  return t;
}

std::vector<domain::TemplateSummary> SqliteTemplateStore::list(std::string_view after,
                                                               std::size_t limit) {
  auto conn = pool_->acquire();
  auto s = use(*conn, kList);
  s.bind(1, after).bind(2, sqlite::to_sql_limit(limit));
  std::vector<domain::TemplateSummary> out;
  while (s.step()) out.push_back({std::string(s.text(0)), s.real(1)});
  return out;
}

}  // namespace mailtally::storage
