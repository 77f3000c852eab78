// Helpers of `mailtally copy-to-postgres` (copy_to_postgres.cpp, copy_metrics.cpp): a one-off
// SQLite query, and the metrics copy, whose PostgreSQL schema differs from the SQLite one.
#pragma once

#include <sqlite3.h>

#include <string>

#include "app/copy_to_postgres.hpp"
#include "pg/connection.hpp"
#include "sqlite/connection.hpp"

namespace mailtally::app {

// A prepared SQLite statement for a one-off query (the cached-slot API is for fixed SQL).
class SqliteQuery {
 public:
  SqliteQuery(sqlite::Connection& conn, const std::string& sql) : conn_(conn) {
    int rc = sqlite3_prepare_v2(conn.handle(), sql.c_str(), -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) conn.fail(rc, sql);
  }
  ~SqliteQuery() { sqlite3_finalize(stmt_); }
  SqliteQuery(const SqliteQuery&) = delete;
  SqliteQuery& operator=(const SqliteQuery&) = delete;
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    conn_.fail(rc, "step");
  }
  sqlite3_stmt* get() { return stmt_; }
  std::string text(int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }

 private:
  sqlite::Connection& conn_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Copies the metrics store at `path` (series, minute and second aggregates, packed chunks,
// cursors, the publishing ledger) into the PostgreSQL metrics tables (metrics/pg_metric_sql.cpp)
// through `pg`, inside the caller's transaction; series keep their ids.
void copy_metrics(const std::string& path, pg::Connection& pg, CopyReport& report);

}  // namespace mailtally::app
