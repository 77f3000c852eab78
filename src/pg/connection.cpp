#include "pg/connection.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace mailtally::pg {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string sqlstate_of(const pg_result* res) {
  const char* s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  return s ? s : "";
}

}  // namespace

Result::Result(pg_result* res) : res_(res) {}
Result::~Result() {
  if (res_) PQclear(res_);
}
Result::Result(Result&& other) noexcept : res_(other.res_) { other.res_ = nullptr; }
Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    if (res_) PQclear(res_);
    res_ = other.res_;
    other.res_ = nullptr;
  }
  return *this;
}

int Result::rows() const { return res_ ? PQntuples(res_) : 0; }

std::int64_t Result::affected() const {
  const char* s = res_ ? PQcmdTuples(res_) : nullptr;
  if (!s || !*s) return 0;
  return std::strtoll(s, nullptr, 10);
}

bool Result::is_null(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }

std::string_view Result::text(int row, int col) const {
  return {PQgetvalue(res_, row, col), static_cast<std::size_t>(PQgetlength(res_, row, col))};
}

std::int64_t Result::integer(int row, int col) const {
  std::string_view t = text(row, col);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) {
    throw Error("postgres: not an integer: " + std::string(t), "");
  }
  return v;
}

double Result::real(int row, int col) const {
  std::string s(text(row, col));
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) throw Error("postgres: not a number: " + s, "");
  return v;
}

bool Result::boolean(int row, int col) const { return text(row, col) == "t"; }

std::string Result::bytea(int row, int col) const {
  std::string_view t = text(row, col);
  if (t.size() < 2 || t[0] != '\\' || t[1] != 'x' || t.size() % 2 != 0) {
    throw Error("postgres: bytea not in hex form", "");
  }
  std::string out;
  out.reserve((t.size() - 2) / 2);
  for (std::size_t i = 2; i < t.size(); i += 2) {
    int hi = hex_value(t[i]), lo = hex_value(t[i + 1]);
    if (hi < 0 || lo < 0) throw Error("postgres: bad hex digit in bytea", "");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::optional<std::string> Result::opt_str(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return str(row, col);
}

Connection::Connection(const std::string& conninfo) {
  conn_ = PQconnectdb(conninfo.c_str());
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    throw Error("postgres: cannot connect: " + why, "");
  }
  // Quiet NOTICEs (e.g. "relation already exists, skipping") instead of printing to stderr.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

void Connection::fail(pg_result* res, std::string_view what) {
  std::string state = sqlstate_of(res);
  std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (res) PQclear(res);
  if (msg.empty()) msg = PQerrorMessage(conn_);
  throw Error("postgres: " + std::string(what) + ": " + msg, std::move(state));
}

void Connection::exec(const char* sql) {
  pg_result* res = PQexec(conn_, sql);
  auto st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(res, sql);
  PQclear(res);
}

Result Connection::query(std::string_view sql, const std::vector<Param>& params) {
  const std::size_t n = params.size();
  std::vector<std::string> storage(n);
  std::vector<const char*> values(n, nullptr);
  std::vector<int> lengths(n, 0), formats(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const Param& p = params[i];
    if (std::holds_alternative<std::nullptr_t>(p)) continue;
    if (auto* s = std::get_if<std::string_view>(&p)) {
      storage[i].assign(*s);
    } else if (auto* v = std::get_if<std::int64_t>(&p)) {
      storage[i] = std::to_string(*v);
    } else if (auto* d = std::get_if<double>(&p)) {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
      storage[i].assign(buf, end);
    } else if (auto* b = std::get_if<bool>(&p)) {
      storage[i] = *b ? "t" : "f";
    } else if (auto* bytes = std::get_if<Bytes>(&p)) {
      storage[i].assign(bytes->data);
      formats[i] = 1;
    }
    values[i] = storage[i].c_str();
    lengths[i] = static_cast<int>(storage[i].size());
  }
  std::string text(sql);
  pg_result* res = nullptr;
  auto it = prepared_.find(text);
  if (it == prepared_.end() && prepared_.size() < kMaxPrepared) {
    std::string name = "mt" + std::to_string(prepared_.size());
    pg_result* prep = PQprepare(conn_, name.c_str(), text.c_str(), static_cast<int>(n), nullptr);
    if (!prep || PQresultStatus(prep) != PGRES_COMMAND_OK) fail(prep, text.substr(0, 120));
    PQclear(prep);
    it = prepared_.emplace(text, std::move(name)).first;
  }
  if (it != prepared_.end()) {
    res = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(n), values.data(),
                         lengths.data(), formats.data(), 0);
  } else {
    res = PQexecParams(conn_, text.c_str(), static_cast<int>(n), nullptr, values.data(),
                       lengths.data(), formats.data(), 0);
  }
  auto st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(res, text.substr(0, 120));
  return Result(res);
}

bool Connection::healthy() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

bool Connection::in_transaction() const {
  return conn_ && PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

Transaction::Transaction(Connection& conn, const char* begin) : conn_(conn) { conn_.exec(begin); }

Transaction::~Transaction() {
  if (!open_) return;
  try {
    conn_.exec("ROLLBACK");
  } catch (...) {
    // The connection is broken; the pool drops it.
  }
}

void Transaction::commit() {
  conn_.exec("COMMIT");
  open_ = false;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace mailtally::pg
