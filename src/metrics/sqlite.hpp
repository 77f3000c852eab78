// The metrics store's own thin layer over the SQLite C API (kept apart from storage/sqlite so
// the metrics library depends on base and SQLite only): a connection with slot-cached prepared
// statements, a scoped statement use, a scoped write transaction.
//
// Threading: a Connection is used by one thread at a time (opened SQLITE_OPEN_NOMUTEX); the
// owner guarantees that. Errors throw MetricsDbError (a std::runtime_error) naming the SQL.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mailtally::metrics::sql {

class MetricsDbError : public std::runtime_error {
 public:
  MetricsDbError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

class Connection;

// One execution of a cached statement; the destructor resets it and clears its bindings.
// Parameters are 1-based, columns 0-based. Text and blob views live until the next step().
class Statement {
 public:
  Statement(Connection& conn, sqlite3_stmt* stmt) : conn_(&conn), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::string_view bytes);

  bool step();  // true: a row is available
  void run();   // steps to completion

  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string_view text(int column) const;
  std::string_view blob(int column) const;

 private:
  Connection* conn_;
  sqlite3_stmt* stmt_;
};

// A SQL text with its fixed slot in every connection's statement cache.
struct Sql {
  std::size_t slot;
  std::string_view text;
};

class Connection {
 public:
  static constexpr std::size_t kSlots = 24;

  // Opens or creates the database file; throws MetricsDbError.
  explicit Connection(const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(const char* sql);
  std::int64_t query_int(const char* sql);
  std::string query_text(const char* sql);
  Statement use(const Sql& sql);
  bool idle() const { return sqlite3_get_autocommit(db_) != 0; }
  sqlite3* handle() const { return db_; }
  std::int64_t changes() const { return sqlite3_changes64(db_); }

  [[noreturn]] void fail(int rc, std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
  std::array<sqlite3_stmt*, kSlots> cache_{};
};

// BEGIN IMMEDIATE now; ROLLBACK at destruction unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) { conn_.exec("BEGIN IMMEDIATE"); }
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& conn_;
  bool open_ = true;
};

// A consistent read snapshot across several statements (WAL): BEGIN now, COMMIT at the end.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Connection& conn) : conn_(conn) { conn_.exec("BEGIN"); }
  ~ReadSnapshot() { sqlite3_exec(conn_.handle(), "COMMIT", nullptr, nullptr, nullptr); }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  Connection& conn_;
};

}  // namespace mailtally::metrics::sql
