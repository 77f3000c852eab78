// mailtally command line (CLI11 kept to this translation unit).
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <tuple>

#include "app/copy_to_postgres.hpp"
#include "app/credentials.hpp"
#include "app/operations_doc.hpp"
#include "app/server_app.hpp"
#include "base/clock.hpp"
#include "smtp/password.hpp"

namespace {

double epoch_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The stores of a data dir (SQLite) or of a shared database (--database); for `keys`.
std::unique_ptr<mailtally::app::Backend> open_backend(const std::string& dir,
                                                      const std::string& database) {
  if (dir.empty() && database.empty()) {
    throw std::runtime_error("--data-dir or --database is required");
  }
  static mailtally::base::SystemClock clock;
  return mailtally::app::Backend::open({dir, database, 2}, clock);
}

// HOST:DATA_DIR: unique among the nodes of one database (each node has its own data dir) and
// the same after a restart, so a restarted node takes its own claims and leases back at once.
std::string default_node_id(const std::string& data_dir) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || !*host) std::snprintf(host, sizeof host, "node");
  std::error_code ec;
  auto dir = std::filesystem::weakly_canonical(data_dir, ec);
  return std::string(host) + ":" + (ec ? data_dir : dir.string());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mailtally;
  CLI::App cli{"mailtally: a self-hosted Amazon SES + CloudWatch event publishing service"};
  cli.set_version_flag("--version", std::string("mailtally ") + MAILTALLY_VERSION);
  cli.require_subcommand(1);

  app::ServeOptions serve_options;
  std::string listen, config_file, public_url;
  auto* serve = cli.add_subcommand("serve", "Run the server");
  serve->add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:4580)");
  serve->add_option("--data-dir", serve_options.data_dir, "Folder of the embedded database");
  serve->add_option("--config", config_file, "TOML configuration file");
  std::optional<std::string> database, node_id;
  std::optional<std::size_t> pool_size;
  std::optional<double> lease_seconds;
  serve->add_option("--database", database,
                    "postgresql://... : keep every store in this PostgreSQL database, shared by "
                    "several nodes (docs/scale-out.md); default: SQLite in the data dir");
  serve
      ->add_option("--database-pool-size", pool_size,
                   "Most PostgreSQL connections this node opens (default 16)")
      ->check(CLI::Range(1, 1000));
  serve->add_option("--node-id", node_id,
                    "This node's name in claims and leases (default HOST:DATA_DIR)");
  serve
      ->add_option("--lease-seconds", lease_seconds,
                   "Delivery and dispatch lease length: how soon a dead node's work is taken "
                   "over (default 30)")
      ->check(CLI::Range(1.0, 3600.0));
  serve->add_option("--threads", serve_options.threads, "Worker threads (default: all cores)");
  serve->add_option("--public-url", public_url,
                    "Base URL of open/click tracking links (default http://<listen address>)");
  std::optional<double> price;
  std::optional<std::int64_t> series_cap;
  serve
      ->add_option("--cloudwatch-price-per-metric", price,
                   "USD per CloudWatch metric and month for the cost estimate (default 0.30)")
      ->check(CLI::NonNegativeNumber);
  serve
      ->add_option("--series-cap", series_cap,
                   "Default cap on the series each CloudWatch destination may create")
      ->check(CLI::NonNegativeNumber);
  serve->add_flag("--sandbox", serve_options.sandbox,
                  "Sending requires verified identities, as in the SES sandbox");
  // SMTP (docs/smtp.md). Flags win over the config file, so they are applied after it.
  std::string region, smtp_listen, smtp_tls_listen, smtp_cert, smtp_key, smtp_hostname;
  bool smtp_plain_loopback = false;
  serve->add_option("--region", region, "The server's region (default us-east-1)");
  serve->add_option("--smtp-listen", smtp_listen, "HOST:PORT of the SMTP port (STARTTLS)");
  serve->add_option("--smtp-tls-listen", smtp_tls_listen, "HOST:PORT of the implicit-TLS port");
  serve->add_option("--smtp-tls-cert", smtp_cert, "PEM certificate (chain) for SMTP TLS");
  serve->add_option("--smtp-tls-key", smtp_key, "PEM private key for SMTP TLS");
  serve->add_option("--smtp-hostname", smtp_hostname, "Name in the SMTP greeting");
  serve->add_flag("--smtp-allow-plain-auth-on-loopback", smtp_plain_loopback,
                  "Allow SMTP AUTH without TLS from loopback clients");
  serve->add_option("--relay", serve_options.relay,
                    "Deliver through this SMTP server: smtp://[user:pass@]HOST:PORT"
                    "[?starttls=required] (docs/relay.md)");
  serve->add_option("--relay-retry-window", serve_options.relay_retry_window,
                    "Seconds a temporarily failing recipient is retried (default 14400)");
  serve->add_option("--relay-retry-initial", serve_options.relay_retry_initial,
                    "Seconds before the first retry; doubles each time (default 60)");
  serve->add_option("--relay-retry-max", serve_options.relay_retry_max,
                    "Longest wait between retries, seconds (default 900)");
  serve->add_option("--relay-timeout", serve_options.relay_timeout,
                    "Seconds for each relay network step: connect, each reply (default 30)");
  std::optional<double> max_24_hour_send, max_send_rate;
  serve->add_option("--max-24-hour-send", max_24_hour_send,
                    "Recipients per rolling 24 hours (default 200000; <= 0: unlimited)");
  serve->add_option("--max-send-rate", max_send_rate,
                    "Recipients per second (default 1000; <= 0: unlimited)");
  std::vector<std::string> sns_subscribers, eventbridge_targets;
  serve->add_option("--sns-subscriber", sns_subscribers,
                    "TOPIC_ARN=URL: also POST that topic's notifications to URL (repeatable)");
  serve->add_option("--eventbridge-target", eventbridge_targets,
                    "EVENT_BUS_ARN=URL: POST the events of that bus to URL (repeatable)");

  std::string keys_dir, keys_database, key_name = "cli", key_id;
  auto* keys = cli.add_subcommand("keys", "Manage access keys of a data dir");
  keys->require_subcommand(1);
  auto* keys_create = keys->add_subcommand("create", "Create an access key and print it");
  keys_create->add_option("--data-dir", keys_dir, "Data dir");
  keys_create->add_option("--database", keys_database, "postgresql://... (instead of a data dir)");
  keys_create->add_option("--name", key_name, "Name shown as ses:caller-identity");
  auto* keys_list = keys->add_subcommand("list", "List access key ids and names");
  keys_list->add_option("--data-dir", keys_dir, "Data dir");
  keys_list->add_option("--database", keys_database, "postgresql://... (instead of a data dir)");
  auto* keys_delete = keys->add_subcommand("delete", "Delete an access key");
  keys_delete->add_option("access_key_id", key_id, "Access key id")->required();
  keys_delete->add_option("--data-dir", keys_dir, "Data dir");
  keys_delete->add_option("--database", keys_database, "postgresql://... (instead of a data dir)");
  std::string smtp_region = "us-east-1";
  auto* keys_smtp = keys->add_subcommand("smtp-password", "Print a key's SES SMTP password");
  keys_smtp->add_option("access_key_id", key_id, "Access key id (the SMTP user name)")->required();
  keys_smtp->add_option("--data-dir", keys_dir, "Data dir");
  keys_smtp->add_option("--database", keys_database, "postgresql://... (instead of a data dir)");
  keys_smtp->add_option("--region", smtp_region, "Region the password is for (default us-east-1)");

  std::string copy_dir, copy_database;
  auto* copy = cli.add_subcommand(
      "copy-to-postgres", "Copy a stopped server's data dir into an empty PostgreSQL database");
  copy->add_option("--data-dir", copy_dir, "Data dir to copy (its server stopped)")->required();
  copy->add_option("--database", copy_database, "postgresql://... of an empty database")
      ->required();

  cli.add_subcommand("operations", "Print every API operation and whether it is implemented");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }

  try {
    if (serve->parsed()) {
      if (!config_file.empty()) app::load_config_file(config_file, serve_options);
      if (!public_url.empty()) serve_options.public_url = public_url;
      if (database) serve_options.database = *database;
      if (pool_size) serve_options.database_pool_size = *pool_size;
      if (node_id) serve_options.node_id = *node_id;
      if (lease_seconds) serve_options.lease_seconds = *lease_seconds;
      if (serve_options.node_id.empty()) {
        serve_options.node_id = default_node_id(serve_options.data_dir);
      }
      if (price) serve_options.cloudwatch_price_per_metric = *price;
      if (series_cap) serve_options.series_cap_per_destination = *series_cap;
      if (max_24_hour_send) serve_options.max_24_hour_send = *max_24_hour_send;
      if (max_send_rate) serve_options.max_send_rate = *max_send_rate;
      for (const auto& [flag, values] : {std::pair{"--sns-subscriber", &sns_subscribers},
                                         std::pair{"--eventbridge-target", &eventbridge_targets}}) {
        for (const auto& v : *values) {
          std::string arn, url;
          if (!app::parse_arn_url(v, arn, url)) {
            std::cerr << "mailtally: " << flag << " must be ARN=URL, got '" << v << "'\n";
            return 2;
          }
          if (values == &sns_subscribers) {
            serve_options.sns_subscribers[arn].push_back(url);
          } else {
            serve_options.eventbridge_targets[arn] = url;
          }
        }
      }
      if (!listen.empty() && !app::parse_listen(listen, serve_options.host, serve_options.port)) {
        std::cerr << "mailtally: --listen must be HOST:PORT, got '" << listen << "'\n";
        return 2;
      }
      auto& smtp = serve_options.smtp;
      // --smtp-listen / --smtp-tls-listen: HOST:PORT, each enables its port.
      for (auto [flag, text, host, port, enabled] :
           {std::tuple{"--smtp-listen", &smtp_listen, &smtp.host, &smtp.port, &smtp.enabled},
            std::tuple{"--smtp-tls-listen", &smtp_tls_listen, &smtp.tls_host, &smtp.tls_port,
                       &smtp.tls_enabled}}) {
        if (text->empty()) continue;
        if (!app::parse_listen(*text, *host, *port)) {
          std::cerr << "mailtally: " << flag << " must be HOST:PORT, got '" << *text << "'\n";
          return 2;
        }
        *enabled = true;
      }
      if (!region.empty()) serve_options.region = region;
      if (!smtp_cert.empty()) smtp.tls_cert_file = smtp_cert;
      if (!smtp_key.empty()) smtp.tls_key_file = smtp_key;
      if (!smtp_hostname.empty()) smtp.hostname = smtp_hostname;
      if (smtp_plain_loopback) smtp.allow_plain_auth_on_loopback = true;
      if (serve_options.data_dir.empty()) {
        std::cerr << "mailtally: --data-dir (or data_dir in the config file) is required\n";
        return 2;
      }
      return app::serve(serve_options);
    }
    if (keys_create->parsed()) {
      auto backend = open_backend(keys_dir, keys_database);
      auto* store = &backend->config();
      auto key = app::make_access_key(key_name, epoch_now());
      store->put_access_key(key);
      std::printf("export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n",
                  key.access_key_id.c_str(), key.secret_access_key.c_str());
      return 0;
    }
    if (keys_list->parsed()) {
      auto backend = open_backend(keys_dir, keys_database);
      auto* store = &backend->config();
      for (const auto& k : store->list_access_keys()) {
        std::printf("%s\t%s\n", k.access_key_id.c_str(), k.name.c_str());
      }
      return 0;
    }
    if (keys_delete->parsed()) {
      auto backend = open_backend(keys_dir, keys_database);
      auto* store = &backend->config();
      if (!store->delete_access_key(key_id)) {
        std::cerr << "mailtally: no access key " << key_id << "\n";
        return 1;
      }
      return 0;
    }
    if (keys_smtp->parsed()) {
      auto backend = open_backend(keys_dir, keys_database);
      auto* store = &backend->config();
      auto key = store->get_access_key(key_id);
      if (!key) {
        std::cerr << "mailtally: no access key " << key_id << "\n";
        return 1;
      }
      std::printf("%s\n", smtp::smtp_password(key->secret_access_key, smtp_region).c_str());
      return 0;
    }
    if (copy->parsed()) {
      auto report = app::copy_to_postgres(copy_dir, copy_database);
      std::printf("%scopied %zu rows of %zu tables into %s\n", report.details.c_str(), report.rows,
                  report.tables, app::redact_database_url(copy_database).c_str());
      return 0;
    }
    if (cli.got_subcommand("operations")) {
      std::cout << app::operations_markdown();
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "mailtally: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
