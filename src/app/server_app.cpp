#include "app/server_app.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "app/credentials.hpp"
#include "base/clock.hpp"
#include "console/console.hpp"
#include "destinations/cloudwatch_sink.hpp"
#include "domain/control_plane.hpp"
#include "http/server.hpp"
#include "metrics/compactor.hpp"
#include "metrics/sqlite_metric_store.hpp"
#include "sending/delivery.hpp"
#include "sending/event_dispatcher.hpp"
#include "sending/sender.hpp"
#include "services/cloudwatch.hpp"
#include "services/gateway.hpp"
#include "services/local_api.hpp"
#include "services/providers.hpp"
#include "services/ses_send.hpp"
#include "storage/sqlite/sending_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

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

// The metrics store lives in its own file beside the main database.
std::unique_ptr<metrics::SqliteMetricStore> storage_metrics(const std::string& data_dir,
                                                            const base::Clock& clock) {
  return metrics::SqliteMetricStore::open((std::filesystem::path(data_dir) / "metrics.db").string(),
                                          clock);
}

}  // namespace

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

std::string prepare_data_dir(const std::string& data_dir) {
  if (data_dir.empty()) throw std::runtime_error("--data-dir is required");
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) throw std::runtime_error("cannot create data dir " + data_dir + ": " + ec.message());
  ::chmod(data_dir.c_str(), 0700);
  return (std::filesystem::path(data_dir) / "mailtally.db").string();
}

void register_operations(services::OperationTable& table, domain::ControlPlane& control,
                         sending::Sender& sender, metrics::MetricStore& metric_store,
                         const base::Clock& clock) {
  services::register_ses_v1(table, control);
  services::register_ses_v2(table, control);
  services::register_ses_send(table, sender);
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

  const std::string db_path = prepare_data_dir(options.data_dir);
  auto store = storage::SqliteStore::open(db_path);
  auto sending_store = storage::SqliteSendingStore::open(db_path);
  base::SystemClock clock;

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

  domain::AccountSettings account;
  account.sandbox = options.sandbox;
  account.max_24_hour_send = options.max_24_hour_send;
  account.max_send_rate = options.max_send_rate;
  domain::ControlPlane control(*store, clock, account);

  auto metric_store = storage_metrics(options.data_dir, clock);
  destinations::CloudWatchSink cloudwatch_sink(*metric_store, clock);
  sending::EventDispatcher dispatcher(*sending_store, *store, cloudwatch_sink);
  sending::DeliveryOptions delivery_options;
  delivery_options.on_applied = [&] { dispatcher.notify(); };
  sending::DeliveryWorker delivery(*sending_store, clock, delivery_options);
  sending::Sender sender(*store, *sending_store, clock, account, [&] {
    delivery.notify();
    dispatcher.notify();
  });
  metrics::Compactor compactor(*metric_store, clock);
  services::OperationTable operations;
  register_operations(operations, control, sender, *metric_store, clock);
  services::Gateway gateway(credentials, clock, operations);
  services::install_validation_mappers(gateway);

  auto local_api = [&](const http::Request& req) {
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
    if (path == "/health" && (req.method == "GET" || req.method == "HEAD")) {
      return text_response(200, R"({"status":"ok"})");
    }
    if (services::is_local_api_request(req)) return local_api(req);
    if (console::Console::is_console_request(req)) return web_console.handle(req);
    if (services::Gateway::is_api_request(req)) return gateway.handle(req);
    return text_response(404, R"({"message":"not found"})");
  });
  compactor.start();
  dispatcher.start();
  delivery.start();
  server.start();
  std::printf("mailtally %s listening on http://%s:%u (data dir %s)\n", MAILTALLY_VERSION,
              options.host.c_str(), static_cast<unsigned>(server.port()), options.data_dir.c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "mailtally: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  server.stop(std::chrono::seconds(10));
  delivery.stop();
  dispatcher.stop();
  compactor.stop();
  return 0;
}

}  // namespace mailtally::app
