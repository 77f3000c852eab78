#include "app/backend.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>

#include "metrics/sqlite_metric_store.hpp"
#include "pg/pool.hpp"
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
};

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
    if (!options.data_dir.empty()) prepare_data_dir(options.data_dir);
    throw std::runtime_error("PostgreSQL backend not wired yet");
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
