// The storage backend of one server process: every store the server needs, opened either on the
// embedded SQLite files of the data dir (the default) or on a PostgreSQL database shared by
// several nodes (`--database postgresql://...`, docs/scale-out.md).
//
// Ownership: a Backend owns its stores (and, for PostgreSQL, the node's connection pool, which
// is destroyed last). The interface pointers stay valid for the Backend's lifetime; they are
// never null. Threading: the stores are thread-safe (their headers); the Backend itself is
// built and destroyed by the main thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/clock.hpp"
#include "domain/lease.hpp"
#include "domain/send_statistics.hpp"
#include "domain/sending_store.hpp"
#include "domain/sns.hpp"
#include "domain/store.hpp"
#include "domain/suppression.hpp"
#include "domain/template_store.hpp"
#include "metrics/metric_store.hpp"
#include "metrics/publishing_ledger.hpp"

namespace mailtally::pg {
class Pool;
}  // namespace mailtally::pg

namespace mailtally::app {

struct BackendOptions {
  std::string data_dir;  // always set: SQLite files, and local files in both modes
  std::string database;  // empty: SQLite in data_dir; else a postgresql:// URL
  std::size_t pool_size = 16;
};

class Backend {
 public:
  // Opens (creating and migrating as needed) every store. Throws std::runtime_error with a
  // clear message when the data dir or database cannot be used.
  static std::unique_ptr<Backend> open(const BackendOptions& options, const base::Clock& clock);
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  domain::ConfigStore& config() { return *config_; }
  domain::SendingStore& sending() { return *sending_; }
  domain::TemplateStore& templates() { return *templates_; }
  domain::SuppressionStore& suppression() { return *suppression_; }
  domain::SnsStore& sns() { return *sns_; }
  domain::SendStatisticsStore& statistics() { return *statistics_; }
  metrics::MetricStore& metrics() { return *metrics_; }
  metrics::PublishingLedger& ledger() { return *ledger_; }
  // Leases between nodes; null with SQLite (one process owns the data dir).
  domain::LeaseStore* leases() { return leases_; }
  bool shared() const { return leases_ != nullptr; }
  // "sqlite <dir>" or "postgresql <host:port/db>" (never the password).
  const std::string& description() const { return description_; }
  // Whether the database answers now (for /health); `why` gets the failure.
  bool reachable(std::string& why);

  struct Owned;  // the stores as their concrete types (backend.cpp)

 private:
  Backend() = default;
  std::unique_ptr<pg::Pool> pool_;  // first: destroyed after every store that borrows it
  std::unique_ptr<Owned> owned_;
  domain::ConfigStore* config_ = nullptr;
  domain::SendingStore* sending_ = nullptr;
  domain::TemplateStore* templates_ = nullptr;
  domain::SuppressionStore* suppression_ = nullptr;
  domain::SnsStore* sns_ = nullptr;
  domain::SendStatisticsStore* statistics_ = nullptr;
  metrics::MetricStore* metrics_ = nullptr;
  metrics::PublishingLedger* ledger_ = nullptr;
  domain::LeaseStore* leases_ = nullptr;
  std::string description_;
};

// The data dir's main SQLite path (creating the dir, mode 0700). Throws when it cannot.
std::string prepare_data_dir(const std::string& data_dir);

// `url` without its password (for logs and /health).
std::string redact_database_url(const std::string& url);

}  // namespace mailtally::app
