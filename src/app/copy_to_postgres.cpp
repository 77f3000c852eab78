#include "app/copy_to_postgres.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "app/backend.hpp"
#include "app/copy_sqlite_query.hpp"
#include "base/clock.hpp"
#include "pg/pool.hpp"
#include "sqlite/connection.hpp"
#include "storage/sqlite/sending_store.hpp"

namespace mailtally::app {
namespace {

struct PgColumn {
  std::string name;
  std::string type;  // information_schema data_type
};

// Columns of every table of the public schema, in ordinal order.
std::map<std::string, std::vector<PgColumn>> pg_tables(pg::Connection& c) {
  std::map<std::string, std::vector<PgColumn>> out;
  auto r = c.query(
      "SELECT table_name, column_name, data_type FROM information_schema.columns "
      "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position");
  for (int i = 0; i < r.rows(); ++i) out[r.str(i, 0)].push_back({r.str(i, 1), r.str(i, 2)});
  return out;
}

// The value of column `col` of the current row as a parameter of PostgreSQL type `type`.
// `keep` holds the bytes text/blob parameters point into.
pg::Param convert(sqlite3_stmt* s, int col, const std::string& type, std::string& keep,
                  const std::string& where) {
  int t = sqlite3_column_type(s, col);
  if (t == SQLITE_NULL) return nullptr;
  if (type == "boolean") return sqlite3_column_int64(s, col) != 0;
  if (type == "bigint" || type == "integer" || type == "smallint") {
    if (t != SQLITE_INTEGER) throw std::runtime_error(where + ": not an integer");
    return static_cast<std::int64_t>(sqlite3_column_int64(s, col));
  }
  if (type == "double precision" || type == "real" || type == "numeric") {
    return sqlite3_column_double(s, col);
  }
  const auto* p = static_cast<const char*>(t == SQLITE_BLOB ? sqlite3_column_blob(s, col)
                                                            : sqlite3_column_text(s, col));
  keep.assign(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s, col)));
  if (type == "bytea") return pg::Bytes{keep};
  return std::string_view(keep);
}

// Copies every table of the SQLite file at `path` that PostgreSQL also has (same name).
void copy_file(const std::string& path, pg::Connection& pg,
               const std::map<std::string, std::vector<PgColumn>>& targets, CopyReport& report) {
  if (!std::filesystem::exists(path)) return;
  sqlite::Connection db(path);
  std::vector<std::string> tables;
  {
    SqliteQuery q(
        db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    while (q.step()) tables.push_back(q.text(0));
  }
  for (const auto& table : tables) {
    auto target = targets.find(table);
    if (target == targets.end()) continue;
    std::vector<std::string> source_cols;
    {
      SqliteQuery q(db, "SELECT name FROM pragma_table_info('" + table + "')");
      while (q.step()) source_cols.push_back(q.text(0));
    }
    std::vector<PgColumn> cols;
    for (const auto& c : target->second) {
      for (const auto& s : source_cols) {
        if (s == c.name) cols.push_back(c);
      }
    }
    if (cols.empty()) continue;
    auto existing = pg.query("SELECT 1 FROM " + pg::quote_identifier(table) + " LIMIT 1");
    if (!existing.empty()) {
      throw std::runtime_error("table " + table +
                               " already holds rows in the PostgreSQL database; copy only into "
                               "an empty database");
    }
    std::string select = "SELECT ", insert = "INSERT INTO " + pg::quote_identifier(table) + " (";
    std::string values;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      select += (i ? ", " : "") + std::string("\"") + cols[i].name + "\"";
      insert += (i ? ", " : "") + pg::quote_identifier(cols[i].name);
      values += (i ? ", $" : "$") + std::to_string(i + 1);
    }
    select += " FROM \"" + table + "\"";
    // Ids are copied as they are (identity columns included); sequences move past them after.
    insert += ") OVERRIDING SYSTEM VALUE VALUES (" + values + ")";
    SqliteQuery q(db, select);
    std::size_t rows = 0;
    std::vector<std::string> keep(cols.size());
    while (q.step()) {
      std::vector<pg::Param> params;
      params.reserve(cols.size());
      for (std::size_t i = 0; i < cols.size(); ++i) {
        params.push_back(convert(q.get(), static_cast<int>(i), cols[i].type, keep[i],
                                 table + "." + cols[i].name));
      }
      pg.run(insert, params);
      ++rows;
    }
    report.tables++;
    report.rows += rows;
    report.details += table + " " + std::to_string(rows) + "\n";
  }
}

// Moves every sequence owned by a column past the largest copied value.
void advance_sequences(pg::Connection& pg) {
  auto r = pg.query(
      "SELECT table_name, column_name FROM information_schema.columns "
      "WHERE table_schema = 'public' AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')");
  for (int i = 0; i < r.rows(); ++i) {
    std::string table = pg::quote_identifier(r.str(i, 0));
    std::string column = pg::quote_identifier(r.str(i, 1));
    pg.query("SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(" + column +
                 "), 0) + 1, false) FROM " + table,
             {std::string_view(table), r.text(i, 1)});
  }
}

}  // namespace

CopyReport copy_to_postgres(const std::string& data_dir, const std::string& database) {
  if (data_dir.empty() || database.empty()) {
    throw std::runtime_error("copy-to-postgres needs --data-dir and --database");
  }
  const auto main_db = std::filesystem::path(data_dir) / "mailtally.db";
  if (!std::filesystem::exists(main_db)) {
    throw std::runtime_error("no mailtally data dir at " + data_dir + " (no mailtally.db)");
  }
  base::SystemClock clock;
  {
    // Indexes what the intake log holds beyond the tables (a server killed before it could),
    // so that the copy has every acknowledged message.
    auto indexed = storage::SqliteSendingStore::open(main_db.string());
  }
  {
    // Creates (migrates) every PostgreSQL schema; its stores are closed again before the copy.
    auto backend = Backend::open({"", database, 2}, clock);
  }
  pg::Connection pg(database);
  CopyReport report;
  pg::Transaction tx(pg);
  auto targets = pg_tables(pg);
  copy_file(main_db.string(), pg, targets, report);
  const auto metrics_db = std::filesystem::path(data_dir) / "metrics.db";
  if (std::filesystem::exists(metrics_db)) copy_metrics(metrics_db.string(), pg, report);
  advance_sequences(pg);
  // The event log numbers new events after its head row (storage/postgres/sending_store.cpp).
  pg.run("UPDATE event_log_head SET last_seq = (SELECT coalesce(max(seq), 0) FROM events)");
  tx.commit();
  return report;
}

}  // namespace mailtally::app
