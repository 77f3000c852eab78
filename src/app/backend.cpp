#include "app/backend.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>

#include "metrics/pg_metric_store.hpp"
#include "metrics/sqlite_metric_store.hpp"
#include "pg/pool.hpp"
#include "storage/postgres/config_store.hpp"
#include "storage/postgres/destinations_store.hpp"
#include "storage/postgres/lease_store.hpp"
#include "storage/postgres/sending_store.hpp"
#include "storage/postgres/suppression_store.hpp"
#include "storage/postgres/template_store.hpp"
#include "storage/sqlite/destinations_store.hpp"
#include "storage/sqlite/sending_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "storage/sqlite/suppression_store.hpp"
#include "storage/sqlite/template_store.hpp"

namespace mailtally::app {

// Owns the stores as their concrete types; the Backend's interface pointers point into them.
struct Backend::Owned {
  std::unique_ptr<storage::SqliteStore> sqlite_config;
  std::unique_ptr<storage::SqliteSendingStore> sqlite_sending;
  std::unique_ptr<storage::SqliteTemplateStore> sqlite_templates;
  std::unique_ptr<storage::SqliteSuppressionStore> sqlite_suppression;
  std::unique_ptr<storage::SqliteDestinationsStore> sqlite_destinations;
  std::unique_ptr<metrics::SqliteMetricStore> sqlite_metrics;
  std::unique_ptr<storage::PgConfigStore> pg_config;
  std::unique_ptr<storage::PgSendingStore> pg_sending;
  std::unique_ptr<storage::PgTemplateStore> pg_templates;
  std::unique_ptr<storage::PgSuppressionStore> pg_suppression;
  std::unique_ptr<storage::PgDestinationsStore> pg_destinations;
  std::unique_ptr<storage::PgLeaseStore> pg_leases;
  std::unique_ptr<metrics::PgMetricStore> pg_metrics;
};

namespace {

// The PostgreSQL stores on one pool. The sending component first: the statistics fold reads
// its event log and keeps its cursor in event_cursors.
void open_postgres(Backend::Owned& o, pg::Pool& pool) {
  o.pg_sending = storage::PgSendingStore::open(
      pool, [](pg::Connection& conn, const domain::SuppressedDestination& d) {
        storage::pgsql::put_suppressed_in(conn, d);
      });
  o.pg_config = storage::PgConfigStore::open(pool);
  o.pg_templates = storage::PgTemplateStore::open(pool);
  o.pg_suppression = storage::PgSuppressionStore::open(pool);
  o.pg_destinations = storage::PgDestinationsStore::open(pool);
  o.pg_leases = storage::PgLeaseStore::open(pool);
}

}  // namespace

Backend::~Backend() {
  owned_.reset();  // stores first, then the pool they borrow
  pool_.reset();
}

std::string prepare_data_dir(const std::string& data_dir) {
  if (data_dir.empty()) throw std::runtime_error("--data-dir is required");
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) throw std::runtime_error("cannot create data dir " + data_dir + ": " + ec.message());
  ::chmod(data_dir.c_str(), 0700);
  return (std::filesystem::path(data_dir) / "mailtally.db").string();
}

std::string redact_database_url(const std::string& url) {
  // postgresql://user:password@host... -> postgresql://user:***@host...
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto at = url.find('@', scheme + 3);
  auto slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

std::unique_ptr<Backend> Backend::open(const BackendOptions& options, const base::Clock& clock) {
  std::unique_ptr<Backend> b(new Backend());
  b->owned_ = std::make_unique<Owned>();
  Owned& o = *b->owned_;
  if (!options.database.empty()) {
    if (options.database.rfind("postgresql://", 0) != 0 &&
        options.database.rfind("postgres://", 0) != 0) {
      throw std::runtime_error("--database must be a postgresql:// URL");
    }
    if (!options.data_dir.empty()) prepare_data_dir(options.data_dir);
    pg::PoolOptions pool_options;
    pool_options.max_size = options.pool_size;
    b->pool_ = std::make_unique<pg::Pool>(options.database, pool_options);
    open_postgres(o, *b->pool_);
    b->config_ = o.pg_config.get();
    b->sending_ = o.pg_sending.get();
    b->templates_ = o.pg_templates.get();
    b->suppression_ = o.pg_suppression.get();
    b->sns_ = o.pg_destinations.get();
    b->statistics_ = o.pg_destinations.get();
    b->leases_ = o.pg_leases.get();
    o.pg_metrics = metrics::PgMetricStore::open(*b->pool_, clock);
    b->metrics_ = o.pg_metrics.get();
    b->ledger_ = o.pg_metrics.get();
    b->description_ = "postgresql " + redact_database_url(options.database);
    return b;
  }
  const std::string db_path = prepare_data_dir(options.data_dir);
  o.sqlite_config = storage::SqliteStore::open(db_path);
  o.sqlite_sending = storage::SqliteSendingStore::open(db_path);
  o.sqlite_templates = storage::SqliteTemplateStore::open(db_path);
  o.sqlite_suppression = storage::SqliteSuppressionStore::open(db_path);
  o.sqlite_destinations = storage::SqliteDestinationsStore::open(db_path);
  // The metrics store lives in its own file beside the main database.
  o.sqlite_metrics = metrics::SqliteMetricStore::open(
      (std::filesystem::path(options.data_dir) / "metrics.db").string(), clock);
  b->config_ = o.sqlite_config.get();
  b->sending_ = o.sqlite_sending.get();
  b->templates_ = o.sqlite_templates.get();
  b->suppression_ = o.sqlite_suppression.get();
  b->sns_ = o.sqlite_destinations.get();
  b->statistics_ = o.sqlite_destinations.get();
  b->metrics_ = o.sqlite_metrics.get();
  b->ledger_ = o.sqlite_metrics.get();
  b->description_ = "sqlite " + options.data_dir;
  return b;
}

bool Backend::reachable(std::string& why) {
  try {
    if (pool_) {
      pool_->with_connection([](pg::Connection& c) { c.query("SELECT 1"); });
    } else {
      config_->get_configuration_set("");  // one read of the main file
    }
    return true;
  } catch (const std::exception& e) {
    why = e.what();
    return false;
  }
}

}  // namespace mailtally::app
