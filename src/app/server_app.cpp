#include "app/server_app.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <boost/json.hpp>

#include "app/backend.hpp"
#include "app/credentials.hpp"
#include "base/clock.hpp"
#include "base/crypto.hpp"
#include "console/console.hpp"
#include "destinations/cloudwatch_sink.hpp"
#include "destinations/external_dispatcher.hpp"
#include "destinations/sns_signer.hpp"
#include "domain/control_plane.hpp"
#include "http/server.hpp"
#include "metrics/compactor.hpp"
#include "relay/smtp_relay.hpp"
#include "sending/delivery.hpp"
#include "sending/event_dispatcher.hpp"
#include "sending/quota.hpp"
#include "sending/sender.hpp"
#include "services/cloudwatch.hpp"
#include "services/gateway.hpp"
#include "services/local_api.hpp"
#include "services/local_metrics_api.hpp"
#include "services/providers.hpp"
#include "services/ses_send.hpp"
#include "services/ses_templates.hpp"
#include "services/sns.hpp"
#include "smtp/server.hpp"
#include "tracking/tracker.hpp"

namespace mailtally::app {
namespace {

double epoch_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

http::Response text_response(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

// The --relay transport, or nullptr without one. Throws on a bad URL.
std::unique_ptr<relay::SmtpRelay> make_relay(const ServeOptions& options) {
  if (options.relay.empty()) return nullptr;
  if (!(options.relay_retry_window >= 0) || !(options.relay_retry_initial > 0) ||
      !(options.relay_retry_max > 0) || !(options.relay_timeout > 0)) {
    throw std::runtime_error(
        "--relay-retry-window must be >= 0; --relay-retry-initial, --relay-retry-max and "
        "--relay-timeout must be > 0 (seconds)");
  }
  std::string error;
  auto config = relay::parse_relay_url(options.relay, error);
  if (!config) throw std::runtime_error("--relay " + options.relay + ": " + error);
  relay::SmtpRelayOptions o;
  o.helo_name = sending::local_host_name();
  o.timeout = std::chrono::milliseconds(static_cast<long long>(options.relay_timeout * 1000));
  std::printf("mailtally: delivering through the SMTP relay %s:%u\n", config->host.c_str(),
              static_cast<unsigned>(config->port));
  return std::make_unique<relay::SmtpRelay>(std::move(*config), o);
}

}  // namespace

bool parse_arn_url(const std::string& text, std::string& arn, std::string& url) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  arn = text.substr(0, eq);
  url = text.substr(eq + 1);
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

bool parse_listen(const std::string& text, std::string& host, std::uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::string h = text.substr(0, colon);
  std::string p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "127.0.0.1";
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  unsigned long v = std::stoul(p);
  if (v > 65535) return false;
  host = h;
  port = static_cast<std::uint16_t>(v);
  return true;
}

// GET /health: 200 while the database answers, 503 (with the reason) when it does not, so a
// load balancer takes the node out of rotation.
http::Response health(Backend& backend) {
  std::string why;
  bool ok = backend.reachable(why);
  boost::json::object body{{"status", ok ? "ok" : "unavailable"},
                           {"database", backend.description()},
                           {"database_reachable", ok}};
  if (!ok) body["error"] = why;
  return text_response(ok ? 200 : 503, boost::json::serialize(body));
}

void register_operations(services::OperationTable& table, domain::ControlPlane& control,
                         sending::Sender& sender, metrics::MetricStore& metric_store,
                         const base::Clock& clock, domain::TemplateStore& templates,
                         domain::SuppressionStore& suppression) {
  services::register_ses_v1(table, control);
  services::register_ses_v2(table, control);
  services::register_ses_suppression(table, suppression, clock);  // after v2: wraps GetAccount
  services::register_ses_send(table, sender);
  services::register_ses_templates(table, templates, sender, clock);  // after register_ses_send
  services::register_cloudwatch(table, metric_store, clock);
}

int serve(const ServeOptions& options) {
  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  base::SystemClock clock;
  auto backend =
      Backend::open({options.data_dir, options.database, options.database_pool_size}, clock);
  domain::ConfigStore* store = &backend->config();
  domain::SendingStore* sending_store = &backend->sending();
  domain::SuppressionStore* suppression_store = &backend->suppression();
  // One process per data dir, or one node of several sharing the database.
  const std::string node_id = backend->shared() ? options.node_id : std::string();

  if (store->list_access_keys().empty()) {
    auto key = make_access_key("default", epoch_now());
    store->put_access_key(key);
    std::printf(
        "mailtally: created an access key for %s (stored there; shown only this once):\n"
        "export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=us-east-1\n",
        options.data_dir.c_str(), key.access_key_id.c_str(), key.secret_access_key.c_str());
  }
  std::optional<auth::Credential> env_key;
  const char* env_id = std::getenv("MAILTALLY_ACCESS_KEY_ID");
  const char* env_secret = std::getenv("MAILTALLY_SECRET_ACCESS_KEY");
  if (env_id && env_secret && *env_id && *env_secret) {
    env_key = auth::Credential{env_id, env_secret, "environment"};
  }
  StoreCredentials credentials(*store, clock, env_key);

  sending::SendQuota quota(clock, options.max_24_hour_send, options.max_send_rate,
                           backend->statistics());
  quota.set_shared(backend->shared());
  quota.set_before_read([sending_store] { sending_store->wait_readable(); });
  domain::AccountSettings account;
  account.sandbox = options.sandbox;
  account.max_24_hour_send = options.max_24_hour_send;
  account.max_send_rate = options.max_send_rate;
  account.usage = &quota;
  domain::ControlPlane control(*store, clock, account);

  metrics::MetricStore* metric_store = &backend->metrics();
  destinations::SinkOptions sink_options;
  sink_options.default_cap = options.series_cap_per_destination;
  destinations::CloudWatchSink cloudwatch_sink(*metric_store, backend->ledger(), clock,
                                               sink_options);
  sending::DispatcherOptions dispatcher_options;
  dispatcher_options.leases = backend->leases();
  dispatcher_options.node_id = node_id;
  dispatcher_options.lease_seconds = options.lease_seconds;
  sending::EventDispatcher dispatcher(*sending_store, *store, cloudwatch_sink, dispatcher_options);
  auto sns_signer = destinations::SnsSigner::open(options.data_dir);
  destinations::ExternalTargets external_targets;
  external_targets.sns_subscribers = options.sns_subscribers;
  external_targets.eventbridge_targets = options.eventbridge_targets;
  external_targets.firehose_dir = (std::filesystem::path(options.data_dir) / "firehose").string();
  destinations::ExternalOptions external_options;
  external_options.leases = backend->leases();
  external_options.node_id = node_id;
  external_options.lease_seconds = options.lease_seconds;
  destinations::ExternalDispatcher external(*sending_store, *store, backend->sns(), *sns_signer,
                                            external_targets, external_options);
  sending::DeliveryOptions delivery_options;
  delivery_options.config = store;
  delivery_options.suppression = suppression_store;
  delivery_options.node_id = node_id;
  delivery_options.lease_seconds = options.lease_seconds;
  std::unique_ptr<relay::SmtpRelay> smtp_relay = make_relay(options);
  delivery_options.relay = smtp_relay.get();
  delivery_options.retry = {options.relay_retry_window, options.relay_retry_initial,
                            options.relay_retry_max};
  delivery_options.on_applied = [&] {
    dispatcher.notify();
    external.notify();
  };
  sending::DeliveryWorker delivery(*sending_store, clock, delivery_options);
  // Enqueues become readable a moment after they are acknowledged (the SQLite intake log): the
  // background loops hear of them then. Removed before they go.
  sending_store->set_readable_listener([&] {
    delivery.notify();
    dispatcher.notify();
    external.notify();
  });
  struct ListenerReset {
    domain::SendingStore& store;
    ~ListenerReset() { store.set_readable_listener({}); }
  } listener_reset{*sending_store};
  sending::Sender sender(*store, *sending_store, clock, account, [&] {
    delivery.notify();
    dispatcher.notify();
    external.notify();
  });
  tracking::Tracker tracker(*store, *sending_store, clock,
                            sending_store->server_secret("tracking", base::random_bytes(32)));
  sender.set_instrumenter(&tracker);
  metrics::Compactor compactor(*metric_store, clock);
  services::OperationTable operations;
  sender.set_quota(&quota);
  register_operations(operations, control, sender, *metric_store, clock, backend->templates(),
                      *suppression_store);
  services::register_sns(operations, backend->sns(), [&](const domain::SnsSubscription& s) {
    external.confirm_subscription(s);
  });
  services::Gateway gateway(credentials, clock, operations);
  services::install_validation_mappers(gateway);
  services::install_sns_validation_mapper(gateway);
  services::GatewayMetrics gateway_metrics;
  gateway.set_observer(&gateway_metrics);
  const services::LocalMetricsContext local_metrics{
      *sending_store,  *store,           *metric_store, backend->ledger(),
      cloudwatch_sink, &gateway_metrics, clock,         options.cloudwatch_price_per_metric};

  // The local JSON endpoints (/_mailtally/...), also reached by the console's pass-through.
  auto local_api = [&](const http::Request& req) {
    if (services::is_local_metrics_request(req)) return handle_local_metrics(local_metrics, req);
    return services::handle_local_api(*sending_store, req);
  };
  console::Console web_console(console::ConsoleDeps{
      credentials, gateway, *store,
      [](std::string name) { return make_access_key(std::move(name), epoch_now()); }, local_api,
      clock});

  http::ServerOptions http_options;
  http_options.host = options.host;
  http_options.port = options.port;
  http_options.threads = options.threads;
  http_options.max_connections = options.max_connections;
  http_options.max_body_bytes = options.max_body_bytes;
  http::Server server(http_options, [&](http::Request& req) -> http::Response {
    std::string_view path = req.path();
    if (path == "/health" && (req.method == "GET" || req.method == "HEAD")) return health(*backend);
    if (services::is_local_metrics_request(req)) return handle_local_metrics(local_metrics, req);
    if (services::is_sns_link_request(req)) {
      return services::handle_sns_link(backend->sns(), req);
    }
    if (path == "/_mailtally/sns/signing-cert.pem" && req.method == "GET") {
      http::Response r;
      r.status = 200;
      r.headers.add("Content-Type", "application/x-pem-file");
      r.body = sns_signer->certificate_pem();
      return r;
    }
    if (services::is_local_api_request(req)) return local_api(req);
    if (tracking::Tracker::is_tracking_request(req)) return tracker.handle(req);
    if (console::Console::is_console_request(req)) return web_console.handle(req);
    if (services::Gateway::is_api_request(req)) return gateway.handle(req);
    return text_response(404, R"({"message":"not found"})");
  });
  std::optional<smtp::Server> smtp_server;
  if (options.smtp.enabled || options.smtp.tls_enabled) {
    smtp::Options smtp_options = options.smtp;
    smtp_options.region = options.region;
    smtp_server.emplace(smtp_options, options.data_dir, credentials, sender);
  }
  // Requests (and so sends) arrive only after server.start() has bound the port.
  tracker.set_base_url([&] {
    return options.public_url.empty() ? tracking::default_base_url(options.host, server.port())
                                      : options.public_url;
  });
  // A node restarting under its id takes back what its previous process had claimed at once.
  if (!node_id.empty()) sending_store->release_claims(node_id);
  compactor.start();
  dispatcher.start();
  delivery.start();
  if (smtp_server) {
    smtp_server->start();
    if (options.smtp.enabled) {
      std::printf("mailtally SMTP listening on smtp://%s:%u (STARTTLS)\n",
                  options.smtp.host.c_str(), static_cast<unsigned>(smtp_server->port()));
    }
    if (options.smtp.tls_enabled) {
      std::printf("mailtally SMTP listening on smtps://%s:%u (implicit TLS)\n",
                  options.smtp.tls_host.c_str(), static_cast<unsigned>(smtp_server->tls_port()));
    }
  }
  server.start();
  external.set_base_url("http://" +
                        (options.host == "0.0.0.0" || options.host == "::"
                             ? std::string("127.0.0.1")
                         : options.host.find(':') != std::string::npos ? "[" + options.host + "]"
                                                                       : options.host) +
                        ":" + std::to_string(server.port()));
  external.start();
  quota.start();
  std::string where = "data dir " + options.data_dir;
  if (backend->shared()) where += ", " + backend->description() + ", node " + node_id;
  std::printf("mailtally %s listening on http://%s:%u (%s)\n", MAILTALLY_VERSION,
              options.host.c_str(), static_cast<unsigned>(server.port()), where.c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "mailtally: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  if (smtp_server) smtp_server->stop(std::chrono::seconds(10));
  server.stop(std::chrono::seconds(10));
  delivery.stop();
  dispatcher.stop();
  external.stop();
  quota.stop();
  compactor.stop();
  return 0;
}

}  // namespace mailtally::app
