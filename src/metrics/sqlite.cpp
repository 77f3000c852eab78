#include "metrics/sqlite.hpp"

#include <limits>

namespace mailtally::metrics::sql {
namespace {

int checked_size(std::size_t n) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw MetricsDbError("metrics db: value too large to bind", SQLITE_TOOBIG);
  }
  return static_cast<int>(n);
}

}  // namespace

Statement::~Statement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) conn_->fail(rc, "bind integer");
  return *this;
}

Statement& Statement::bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) conn_->fail(rc, "bind real");
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text(stmt_, index, text.data(), checked_size(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) conn_->fail(rc, "bind text");
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  int rc =
      sqlite3_bind_blob(stmt_, index, bytes.data(), checked_size(bytes.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) conn_->fail(rc, "bind blob");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  conn_->fail(rc, sqlite3_sql(stmt_));
}

void Statement::run() {
  while (step()) {
  }
}

std::string_view Statement::text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  int n = sqlite3_column_bytes(stmt_, column);
  return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(n));
}

std::string_view Statement::blob(int column) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  int n = sqlite3_column_bytes(stmt_, column);
  return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(n));
}

Connection::Connection(const std::string& path) {
  int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "metrics db: cannot open '" + path +
                      "': " + (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw MetricsDbError(msg, rc);
  }
}

Connection::~Connection() {
  for (sqlite3_stmt* s : cache_) sqlite3_finalize(s);
  sqlite3_close_v2(db_);
}

void Connection::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = "metrics db: " + std::string(err != nullptr ? err : sqlite3_errstr(rc)) +
                      " (code " + std::to_string(rc) + ") in: " + sql;
    sqlite3_free(err);
    throw MetricsDbError(msg, rc);
  }
}

std::int64_t Connection::query_int(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) fail(rc, sql);
  std::int64_t v = 0;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail(rc, sql);
  return v;
}

std::string Connection::query_text(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) fail(rc, sql);
  std::string v;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    if (p != nullptr) v.assign(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail(rc, sql);
  return v;
}

Statement Connection::use(const Sql& sql) {
  sqlite3_stmt*& stmt = cache_.at(sql.slot);
  if (stmt == nullptr) {
    int rc = sqlite3_prepare_v3(db_, sql.text.data(), checked_size(sql.text.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      stmt = nullptr;
      fail(rc, sql.text);
    }
  }
  return Statement(*this, stmt);
}

void Connection::fail(int rc, std::string_view what) const {
  throw MetricsDbError("metrics db: " + std::string(sqlite3_errmsg(db_)) + " (code " +
                           std::to_string(rc) + ") in: " + std::string(what),
                       rc);
}

Transaction::~Transaction() {
  if (open_ && !conn_.idle()) sqlite3_exec(conn_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  conn_.exec("COMMIT");
  open_ = false;
}

}  // namespace mailtally::metrics::sql
