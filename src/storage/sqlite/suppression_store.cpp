#include "storage/sqlite/suppression_store.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "storage/sqlite/connection_pool.hpp"
#include "storage/sqlite/prepared.hpp"
#include "storage/sqlite/schema.hpp"

namespace mailtally::storage {

namespace json = boost::json;
using sqlite::Connection;
using sqlite::Prepared;

namespace {

std::string key_of(std::string_view email) {
  std::string k(email);
  for (char& c : k) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return k;
}

domain::SuppressedDestination read_row(sqlite::Statement& s) {
  domain::SuppressedDestination d;
  d.email_address = std::string(s.text(0));
  d.reason = std::string(s.text(1));
  d.last_update = s.real(2);
  d.message_id = std::string(s.text(3));
  d.feedback_id = std::string(s.text(4));
  return d;
}

constexpr std::string_view kColumns =
    "email_address, reason, last_update, message_id, feedback_id FROM suppressed_destinations ";

}  // namespace

namespace sqlite {
void put_suppressed_in(Connection& conn, const domain::SuppressedDestination& d) {
  Prepared p(conn,
             "INSERT INTO suppressed_destinations (email_address, email_key, reason, last_update, "
             "message_id, feedback_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (email_key) "
             "DO UPDATE SET email_address = excluded.email_address, reason = excluded.reason, "
             "last_update = excluded.last_update, message_id = excluded.message_id, "
             "feedback_id = excluded.feedback_id");
  p->bind(1, d.email_address)
      .bind(2, key_of(d.email_address))
      .bind(3, d.reason)
      .bind(4, d.last_update)
      .bind(5, d.message_id)
      .bind(6, d.feedback_id)
      .run();
}
}  // namespace sqlite

std::unique_ptr<SqliteSuppressionStore> SqliteSuppressionStore::open(const std::string& path,
                                                                     SqliteOptions options) {
  auto make = [path, options] {
    auto conn =
        std::make_unique<Connection>(path, options.exclusive_process ? "unix-excl" : nullptr);
    sqlite::configure_connection(*conn, options.durability == Durability::PowerLoss);
    return conn;
  };
  auto first = make();
  sqlite::migrate(*first);
  auto pool = std::make_unique<sqlite::ConnectionPool>(make, options.max_connections);
  pool->adopt(std::move(first));
  return std::unique_ptr<SqliteSuppressionStore>(new SqliteSuppressionStore(std::move(pool)));
}

SqliteSuppressionStore::SqliteSuppressionStore(std::unique_ptr<sqlite::ConnectionPool> pool)
    : pool_(std::move(pool)) {}
SqliteSuppressionStore::~SqliteSuppressionStore() = default;

void SqliteSuppressionStore::put_suppressed(const domain::SuppressedDestination& d) {
  auto conn = pool_->acquire();
  sqlite::Transaction tx(*conn);
  sqlite::put_suppressed_in(*conn, d);
  tx.commit();
}

std::optional<domain::SuppressedDestination> SqliteSuppressionStore::get_suppressed(
    std::string_view email) {
  auto conn = pool_->acquire();
  Prepared p(*conn, "SELECT " + std::string(kColumns) + "WHERE email_key = ?1");
  p->bind(1, key_of(email));
  if (!p->step()) return std::nullopt;
  return read_row(*p);
}

bool SqliteSuppressionStore::delete_suppressed(std::string_view email) {
  auto conn = pool_->acquire();
  sqlite::Transaction tx(*conn);
  Prepared p(*conn, "DELETE FROM suppressed_destinations WHERE email_key = ?1");
  int n = p->bind(1, key_of(email)).run();
  tx.commit();
  return n > 0;
}

std::vector<domain::SuppressedDestination> SqliteSuppressionStore::list_suppressed(
    const domain::SuppressionFilter& f) {
  json::array reasons;
  for (const auto& r : f.reasons) reasons.emplace_back(r);
  auto conn = pool_->acquire();
  Prepared p(*conn, "SELECT " + std::string(kColumns) +
                        "WHERE email_key > ?1 AND (?2 IS NULL OR reason IN (SELECT value FROM "
                        "json_each(?2))) AND (?3 IS NULL OR last_update >= ?3) "
                        "AND (?4 IS NULL OR last_update <= ?4) ORDER BY email_key LIMIT ?5");
  p->bind(1, key_of(f.after));
  if (f.reasons.empty()) {
    p->bind_null(2);
  } else {
    p->bind(2, json::serialize(reasons));
  }
  if (f.start) {
    p->bind(3, *f.start);
  } else {
    p->bind_null(3);
  }
  if (f.end) {
    p->bind(4, *f.end);
  } else {
    p->bind_null(4);
  }
  p->bind(5, static_cast<std::int64_t>(std::min<std::size_t>(f.limit, 1u << 30)));
  std::vector<domain::SuppressedDestination> out;
  while (p->step()) out.push_back(read_row(*p));
  return out;
}

std::vector<std::string> SqliteSuppressionStore::account_suppressed_reasons() {
  auto conn = pool_->acquire();
  Prepared p(*conn, "SELECT reasons FROM account_suppression WHERE id = 1");
  std::vector<std::string> out;
  if (!p->step()) return out;
  boost::system::error_code ec;
  json::value v = json::parse(p->text(0), ec);
  if (ec || !v.is_array()) return out;
  for (const auto& r : v.as_array()) {
    if (r.is_string()) out.emplace_back(r.as_string());
  }
  return out;
}

void SqliteSuppressionStore::set_account_suppressed_reasons(
    const std::vector<std::string>& reasons) {
  json::array a;
  for (const auto& r : reasons) a.emplace_back(r);
  auto conn = pool_->acquire();
  sqlite::Transaction tx(*conn);
  Prepared p(*conn,
             "INSERT INTO account_suppression (id, reasons) VALUES (1, ?1) "
             "ON CONFLICT (id) DO UPDATE SET reasons = excluded.reasons");
  p->bind(1, json::serialize(a)).run();
  tx.commit();
}

}  // namespace mailtally::storage
