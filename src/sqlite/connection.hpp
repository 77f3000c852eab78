// Thin RAII layer over the SQLite C API, shared by every SQLite adapter (storage/sqlite,
// metrics): a connection with a per-connection cache of prepared statements, a scoped statement
// use, a scoped write transaction and a read snapshot.
//
// Threading: a Connection (and everything obtained from it) is used by one thread at a time; it
// is opened in SQLite's multi-thread mode (SQLITE_OPEN_NOMUTEX), so the caller (ConnectionPool)
// must guarantee that exclusivity. Different connections may be used concurrently.
//
// Errors: every SQLite failure throws SqliteError (a std::runtime_error) naming the operation,
// the SQLite message and the extended result code.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mailtally::sqlite {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
  // The extended SQLite result code (e.g. SQLITE_CONSTRAINT_PRIMARYKEY).
  int code() const { return code_; }

 private:
  int code_;
};

class Connection;

// One execution of a cached prepared statement. Binds parameters (1-based, as in SQL), steps
// through rows and reads columns (0-based). The destructor resets the statement and clears its
// bindings so the cached statement is ready for the next use. Text returned by `text()` is valid
// until the next step() or the end of this object.
class Statement {
 public:
  Statement(Connection& conn, sqlite3_stmt* stmt) : conn_(&conn), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text);
  // Like bind(text) without SQLite's copy: `text` must stay alive and unchanged until this
  // Statement is destroyed (for large values: a message body, an event record).
  Statement& bind_unowned(int index, std::string_view text);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::int64_t value);
  Statement& bind_null(int index);
  Statement& bind_blob(int index, std::string_view bytes);

  // true when a row is available, false when done.
  bool step();
  // Steps a statement that returns no rows; returns sqlite3_changes() afterwards.
  int run();

  bool is_null(int column) const;
  std::string_view text(int column) const;
  double real(int column) const;
  std::int64_t integer(int column) const;
  // Blob bytes, valid like text().
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
  // Upper bound on cache slots; callers use stable slot numbers below it.
  static constexpr std::size_t kMaxCachedStatements = 48;

  // Opens (creating if missing) the database at `path` through the VFS named `vfs` (nullptr:
  // SQLite's default). Throws SqliteError.
  explicit Connection(const std::string& path, const char* vfs = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more SQL statements that return no rows of interest (DDL, PRAGMA, BEGIN ...).
  void exec(const char* sql);
  // Runs a query and returns the first column of its first row (0 / "" when there is none).
  std::int64_t query_int(const char* sql);
  std::string query_text(const char* sql);

  // The prepared statement for `slot`, prepared from `sql` on first use and kept for the
  // lifetime of the connection. A slot must always be used with the same SQL text.
  Statement cached(std::size_t slot, std::string_view sql);
  Statement use(const Sql& sql) { return cached(sql.slot, sql.text); }
  // Rows changed by the last statement (sqlite3_changes64).
  std::int64_t changes() const { return sqlite3_changes64(db_); }

  // true when no transaction is open (sqlite3_get_autocommit).
  bool idle() const;
  sqlite3* handle() const { return db_; }

  // Throws SqliteError for `rc` with the connection's current error message.
  [[noreturn]] void fail(int rc, std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
  std::array<sqlite3_stmt*, kMaxCachedStatements> cache_{};
};

// A write transaction: BEGIN IMMEDIATE on construction (takes the database write lock, waiting
// up to the busy timeout), ROLLBACK on destruction unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& conn);
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

}  // namespace mailtally::sqlite
