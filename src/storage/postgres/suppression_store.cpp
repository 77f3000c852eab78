#include "storage/postgres/suppression_store.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "storage/postgres/sql_util.hpp"

namespace mailtally::storage {

namespace json = boost::json;

namespace {

// Step i brings the component from version i to i + 1. Append only.
const std::vector<const char*> kMigrations = {
    // 1: as SQLite's migration 4 (its suppression part).
    R"sql(
CREATE TABLE suppressed_destinations (
  email_address TEXT NOT NULL,
  email_key TEXT COLLATE "C" PRIMARY KEY,  -- lower(email_address) (ASCII): case-insensitive
  reason TEXT NOT NULL CHECK (reason IN ('BOUNCE', 'COMPLAINT')),
  last_update DOUBLE PRECISION NOT NULL,    -- epoch seconds
  message_id TEXT NOT NULL,                 -- '' when put by the API
  feedback_id TEXT NOT NULL
);
CREATE INDEX suppressed_by_update ON suppressed_destinations (last_update);
CREATE TABLE account_suppression (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  reasons TEXT NOT NULL  -- JSON array of BOUNCE / COMPLAINT
);
)sql",
};

// ASCII lower-casing, as the SQLite adapter (addresses are ASCII once validated).
std::string key_of(std::string_view email) {
  std::string k(email);
  for (char& c : k) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return k;
}

constexpr std::string_view kSelect =
    "SELECT email_address, reason, last_update, message_id, feedback_id "
    "FROM suppressed_destinations ";

domain::SuppressedDestination read_row(const pg::Result& r, int i) {
  return {r.str(i, 0), r.str(i, 1), r.real(i, 2), r.str(i, 3), r.str(i, 4)};
}

}  // namespace

namespace pgsql {
void put_suppressed_in(pg::Connection& conn, const domain::SuppressedDestination& d) {
  conn.run(
      "INSERT INTO suppressed_destinations (email_address, email_key, reason, last_update, "
      "message_id, feedback_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email_key) "
      "DO UPDATE SET email_address = excluded.email_address, reason = excluded.reason, "
      "last_update = excluded.last_update, message_id = excluded.message_id, "
      "feedback_id = excluded.feedback_id",
      {d.email_address, key_of(d.email_address), d.reason, d.last_update, d.message_id,
       d.feedback_id});
}
}  // namespace pgsql

std::unique_ptr<PgSuppressionStore> PgSuppressionStore::open(pg::Pool& pool) {
  pg::migrate(pool, "suppression", kMigrations);
  return std::unique_ptr<PgSuppressionStore>(new PgSuppressionStore(pool));
}

void PgSuppressionStore::put_suppressed(const domain::SuppressedDestination& d) {
  pool_.with_connection([&](pg::Connection& conn) { pgsql::put_suppressed_in(conn, d); });
}

std::optional<domain::SuppressedDestination> PgSuppressionStore::get_suppressed(
    std::string_view email) {
  return pool_.with_connection(
      [&](pg::Connection& conn) -> std::optional<domain::SuppressedDestination> {
        auto r = conn.query(std::string(kSelect) + "WHERE email_key = $1", {key_of(email)});
        if (r.empty()) return std::nullopt;
        return read_row(r, 0);
      });
}

bool PgSuppressionStore::delete_suppressed(std::string_view email) {
  return pool_.with_connection([&](pg::Connection& conn) {
    return conn.run("DELETE FROM suppressed_destinations WHERE email_key = $1", {key_of(email)}) >
           0;
  });
}

std::vector<domain::SuppressedDestination> PgSuppressionStore::list_suppressed(
    const domain::SuppressionFilter& f) {
  json::array reasons;
  for (const auto& r : f.reasons) reasons.emplace_back(r);
  std::string reasons_json = json::serialize(reasons);
  std::string after = key_of(f.after);
  std::vector<domain::SuppressedDestination> out;
  pool_.with_connection([&](pg::Connection& conn) {
    auto r = conn.query(
        std::string(kSelect) +
            "WHERE email_key > $1 AND ($2::text IS NULL OR reason IN "
            "(SELECT jsonb_array_elements_text($2::jsonb))) "
            "AND ($3::float8 IS NULL OR last_update >= $3) "
            "AND ($4::float8 IS NULL OR last_update <= $4) ORDER BY email_key LIMIT $5",
        {after, f.reasons.empty() ? pg::Param(nullptr) : pg::Param(std::string_view(reasons_json)),
         pgsql::opt_real(f.start), pgsql::opt_real(f.end),
         static_cast<std::int64_t>(std::min<std::size_t>(f.limit, 1u << 30))});
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_row(r, i));
  });
  return out;
}

std::vector<std::string> PgSuppressionStore::account_suppressed_reasons() {
  std::optional<std::string> text = pool_.with_connection([](pg::Connection& conn) {
    auto r = conn.query("SELECT reasons FROM account_suppression WHERE id = 1");
    return r.empty() ? std::nullopt : std::optional<std::string>(r.str(0, 0));
  });
  std::vector<std::string> out;
  if (!text) return out;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_array()) return out;  // as SQLite: an unreadable row reads as "none"
  for (const auto& r : v.as_array()) {
    if (r.is_string()) out.emplace_back(r.as_string());
  }
  return out;
}

void PgSuppressionStore::set_account_suppressed_reasons(const std::vector<std::string>& reasons) {
  json::array a;
  for (const auto& r : reasons) a.emplace_back(r);
  std::string text = json::serialize(a);
  pool_.with_connection([&](pg::Connection& conn) {
    conn.run(
        "INSERT INTO account_suppression (id, reasons) VALUES (1, $1) "
        "ON CONFLICT (id) DO UPDATE SET reasons = excluded.reasons",
        {text});
  });
}

}  // namespace mailtally::storage
