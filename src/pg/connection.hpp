// Thin RAII layer over libpq (PostgreSQL's C client), shared by every PostgreSQL adapter
// (storage/postgres, metrics): a connection, parameterised statements, results, a scoped
// transaction, a bounded connection pool and schema migrations.
//
// Parameters are sent in text form except bytea (binary); results come back in text form and
// are converted by Result's getters (bytea from its hex form). SQL uses $1, $2, ... as usual.
//
// Threading: a Connection (and every Result read from it) is used by one thread at a time; the
// Pool hands each connection to one borrower at a time. Results own their memory and outlive
// the statement that made them.
//
// Errors: every failure throws pg::Error (a std::runtime_error) with the server's SQLSTATE
// (empty for connection failures) and message.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

struct pg_conn;
struct pg_result;

namespace mailtally::pg {

class Error : public std::runtime_error {
 public:
  Error(const std::string& what, std::string sqlstate)
      : std::runtime_error(what), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }
  bool unique_violation() const { return sqlstate_ == "23505"; }
  // Serialization failure or deadlock: the transaction may be retried as a whole.
  bool retryable() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }
  // The connection is gone (class 08, admin shutdown, or no SQLSTATE at all).
  bool connection_lost() const {
    return sqlstate_.empty() || sqlstate_.rfind("08", 0) == 0 || sqlstate_ == "57P01";
  }

 private:
  std::string sqlstate_;
};

// A bytea parameter (sent in binary form).
struct Bytes {
  std::string_view data;
};

// One statement parameter: NULL, text, integer, real, boolean or bytea.
using Param = std::variant<std::nullptr_t, std::string_view, std::int64_t, double, bool, Bytes>;

class Result {
 public:
  explicit Result(pg_result* res);
  ~Result();
  Result(Result&& other) noexcept;
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const;
  // Rows changed by an INSERT/UPDATE/DELETE (PQcmdTuples).
  std::int64_t affected() const;
  bool empty() const { return rows() == 0; }

  bool is_null(int row, int col) const;
  std::string_view text(int row, int col) const;  // valid as long as the Result
  std::string str(int row, int col) const { return std::string(text(row, col)); }
  std::int64_t integer(int row, int col) const;
  double real(int row, int col) const;
  bool boolean(int row, int col) const;
  std::string bytea(int row, int col) const;  // decoded bytes
  std::optional<std::string> opt_str(int row, int col) const;

 private:
  pg_result* res_;
};

class Connection {
 public:
  // Connects with a libpq connection string or URI (postgresql://...). Throws Error.
  explicit Connection(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without parameters (DDL, BEGIN, ...).
  void exec(const char* sql);
  // Runs one statement with parameters and returns its rows. The statement is prepared on the
  // connection at its first use and reused after (parse and plan once per connection), for up
  // to kMaxPrepared distinct SQL texts; beyond that it is sent unprepared.
  Result query(std::string_view sql, const std::vector<Param>& params = {});
  static constexpr std::size_t kMaxPrepared = 512;
  // query() for statements without interesting rows; returns rows affected.
  std::int64_t run(std::string_view sql, const std::vector<Param>& params = {}) {
    return query(sql, params).affected();
  }
  // false after the server went away (the pool then replaces the connection).
  bool healthy() const;
  bool in_transaction() const;

 private:
  [[noreturn]] void fail(pg_result* res, std::string_view what);
  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
};

// A transaction: BEGIN on construction (optionally at ISOLATION LEVEL `isolation`), ROLLBACK on
// destruction unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& conn, const char* begin = "BEGIN");
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& conn_;
  bool open_ = true;
};

// Quotes `name` as a PostgreSQL identifier ("a""b").
std::string quote_identifier(std::string_view name);

}  // namespace mailtally::pg
