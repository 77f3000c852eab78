#include "sqlite/connection.hpp"

#include <limits>

namespace mailtally::sqlite {

namespace {

int checked_size(std::size_t n) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw SqliteError("sqlite: value too large to bind", SQLITE_TOOBIG);
  }
  return static_cast<int>(n);
}

}  // namespace

// ---- Statement ----

Statement::~Statement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::bind(int index, std::string_view text) {
  // SQLITE_TRANSIENT: SQLite copies the text, so `text` need not outlive the statement.
  int rc =
      sqlite3_bind_text(stmt_, index, text.data(), checked_size(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) conn_->fail(rc, "bind text");
  return *this;
}

Statement& Statement::bind_unowned(int index, std::string_view text) {
  int rc = sqlite3_bind_text(stmt_, index, text.data(), checked_size(text.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK) conn_->fail(rc, "bind text");
  return *this;
}

Statement& Statement::bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) conn_->fail(rc, "bind real");
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) conn_->fail(rc, "bind integer");
  return *this;
}

Statement& Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) conn_->fail(rc, "bind null");
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  int rc =
      sqlite3_bind_blob(stmt_, index, bytes.data(), checked_size(bytes.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) conn_->fail(rc, "bind blob");
  return *this;
}

std::string_view Statement::blob(int column) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  int n = sqlite3_column_bytes(stmt_, column);  // after column_blob, as SQLite requires
  return p ? std::string_view(p, static_cast<std::size_t>(n)) : std::string_view();
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  conn_->fail(rc, sqlite3_sql(stmt_));
}

int Statement::run() {
  while (step()) {
  }
  return sqlite3_changes(conn_->handle());
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::string_view Statement::text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  int n = sqlite3_column_bytes(stmt_, column);  // after column_text, as SQLite requires
  return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(n));
}

double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }

std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

// ---- Connection ----

Connection::Connection(const std::string& path, const char* vfs) {
  int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, vfs);
  if (rc != SQLITE_OK) {
    std::string msg = "sqlite: cannot open database '" + path +
                      "': " + (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw SqliteError(msg, rc);
  }
}

Connection::~Connection() {
  for (sqlite3_stmt* s : cache_) sqlite3_finalize(s);  // finalize(nullptr) is a no-op
  sqlite3_close_v2(db_);
}

void Connection::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = "sqlite: " + std::string(err != nullptr ? err : sqlite3_errstr(rc)) +
                      " (code " + std::to_string(rc) + ") in: " + sql;
    sqlite3_free(err);
    throw SqliteError(msg, rc);
  }
}

namespace {

// Runs `sql` as a one-off statement and hands its first row (if any) to `read`.
template <class Read>
void query_first(const Connection& conn, const char* sql, Read read) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(conn.handle(), sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) conn.fail(rc, sql);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) read(stmt);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) conn.fail(rc, sql);
}

}  // namespace

std::int64_t Connection::query_int(const char* sql) {
  std::int64_t value = 0;
  query_first(*this, sql, [&](sqlite3_stmt* s) { value = sqlite3_column_int64(s, 0); });
  return value;
}

std::string Connection::query_text(const char* sql) {
  std::string value;
  query_first(*this, sql, [&](sqlite3_stmt* s) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    if (p != nullptr) value.assign(p, static_cast<std::size_t>(sqlite3_column_bytes(s, 0)));
  });
  return value;
}

Statement Connection::cached(std::size_t slot, std::string_view sql) {
  sqlite3_stmt*& stmt = cache_.at(slot);
  if (stmt == nullptr) {
    int rc = sqlite3_prepare_v3(db_, sql.data(), checked_size(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      stmt = nullptr;
      fail(rc, sql);
    }
  }
  return Statement(*this, stmt);
}

bool Connection::idle() const { return sqlite3_get_autocommit(db_) != 0; }

void Connection::fail(int rc, std::string_view what) const {
  throw SqliteError("sqlite: " + std::string(sqlite3_errmsg(db_)) + " (code " + std::to_string(rc) +
                        ") in: " + std::string(what),
                    rc);
}

// ---- Transaction ----

Transaction::Transaction(Connection& conn) : conn_(conn) { conn_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (open_ && !conn_.idle()) {
    // Best effort: if ROLLBACK itself fails the pool discards the connection (not idle).
    sqlite3_exec(conn_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Transaction::commit() {
  conn_.exec("COMMIT");
  open_ = false;
}

}  // namespace mailtally::sqlite
