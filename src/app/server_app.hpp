// `mailtally serve`: wires storage, the control plane, the API gateway and the HTTP server, and
// runs until SIGTERM or SIGINT.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/backend.hpp"
#include "smtp/options.hpp"

namespace mailtally::app {

struct ServeOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4580;
  std::string data_dir;
  // Several nodes (docs/scale-out.md): a postgresql:// URL puts every store in that database
  // (empty: SQLite in data_dir); at most database_pool_size connections per node; this node's
  // id in claims and leases (default HOST:DATA_DIR, stable across restarts); the length of delivery
  // and dispatch leases, i.e. how soon a dead node's work is taken over.
  std::string database;
  std::size_t database_pool_size = 16;
  std::string node_id;
  double lease_seconds = 30;
  unsigned threads = 0;  // 0: hardware threads
  bool sandbox = false;  // sending requires verified identities
  double max_24_hour_send = 200000;
  double max_send_rate = 1000;
  std::size_t max_connections = 10000;
  std::size_t max_body_bytes = 48 * 1024 * 1024;
  std::string region = "us-east-1";  // the server's region (SMTP passwords are derived for it)
  smtp::Options smtp;                // the SMTP interface (off unless a port is given)
  // SMTP relay (docs/relay.md): smtp://[user:pass@]HOST:PORT[?starttls=required]; empty: the
  // built-in mailbox. Seconds for the retry schedule and the per-step network timeout.
  std::string relay;
  double relay_retry_window = 4 * 3600.0;
  double relay_retry_initial = 60;
  double relay_retry_max = 900;
  double relay_timeout = 30;
  std::string public_url;  // base of tracking links; empty: http://<listen host:port>
  double cloudwatch_price_per_metric = 0.30;               // USD per metric-month (cost estimate)
  std::optional<std::int64_t> series_cap_per_destination;  // default cap; nullopt: none
  // External event destinations (docs/destinations.md): static SNS subscribers per topic ARN
  // and the EventBridge target URL per event bus ARN.
  std::map<std::string, std::vector<std::string>, std::less<>> sns_subscribers;
  std::map<std::string, std::string, std::less<>> eventbridge_targets;
};

// Parses "ARN=URL" (serve flags --sns-subscriber, --eventbridge-target); false on bad input.
bool parse_arn_url(const std::string& text, std::string& arn, std::string& url);

// Parses HOST:PORT (or [v6]:PORT, or :PORT); false on bad input.
bool parse_listen(const std::string& text, std::string& host, std::uint16_t& port);

// Reads a TOML config file into `options` (keys: listen, data_dir, database,
// database_pool_size, node_id, lease_seconds, threads, sandbox, max_24_hour_send,
// max_send_rate, max_connections, max_body_bytes, region, relay, relay_retry_window,
// relay_retry_initial, relay_retry_max, relay_timeout, public_url, cloudwatch_price_per_metric,
// series_cap_per_destination, the smtp_* keys of docs/smtp.md, and the tables
// [sns_subscriptions] (topic ARN = [URL, ...]) and [eventbridge_targets] (bus ARN = URL)).
// Throws on errors.
void load_config_file(const std::string& path, ServeOptions& options);

}  // namespace mailtally::app

namespace mailtally::domain {
class ControlPlane;
class TemplateStore;
}  // namespace mailtally::domain
namespace mailtally::sending {
class Sender;
}
namespace mailtally::services {
class OperationTable;
}
namespace mailtally::metrics {
class MetricStore;
}
namespace mailtally::base {
class Clock;
}
namespace mailtally::domain {
class SuppressionStore;
}

namespace mailtally::app {

// Registers every implemented operation: the one list both `serve` and `operations` use.
void register_operations(services::OperationTable& table, domain::ControlPlane& control,
                         sending::Sender& sender, metrics::MetricStore& metric_store,
                         const base::Clock& clock, domain::TemplateStore& templates,
                         domain::SuppressionStore& suppression);

// Blocks until a stop signal; returns the process exit code.
int serve(const ServeOptions& options);

}  // namespace mailtally::app
