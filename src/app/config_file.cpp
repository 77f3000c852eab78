// TOML configuration file reading (toml++ kept to this one translation unit).
#include <toml++/toml.h>

#include <algorithm>
#include <stdexcept>

#include "app/server_app.hpp"

namespace mailtally::app {
namespace {

// The smtp_* keys (docs/smtp.md). False when `key` is not one of them.
bool load_smtp_key(const std::string& key, const toml::node& value, const std::string& path,
                   smtp::Options& o) {
  auto bad = [&](const char* what) {
    return std::runtime_error("config file " + path + ": " + key + " must be " + what);
  };
  auto text = [&] {
    auto s = value.value<std::string>();
    if (!s) throw bad("a string");
    return *s;
  };
  auto count = [&] {
    auto n = value.value<std::int64_t>();
    if (!n || *n < 0) throw bad("a non-negative integer");
    return *n;
  };
  auto seconds = [&] {
    auto n = value.value<double>();
    if (!n || *n < 0) throw bad("a non-negative number of seconds");
    return std::chrono::milliseconds(static_cast<std::int64_t>(*n * 1000));
  };
  if (key == "smtp_listen" || key == "smtp_tls_listen") {
    bool tls = key == "smtp_tls_listen";
    if (!parse_listen(text(), tls ? o.tls_host : o.host, tls ? o.tls_port : o.port)) {
      throw bad("\"HOST:PORT\"");
    }
    (tls ? o.tls_enabled : o.enabled) = true;
  } else if (key == "smtp_tls_cert") {
    o.tls_cert_file = text();
  } else if (key == "smtp_tls_key") {
    o.tls_key_file = text();
  } else if (key == "smtp_hostname") {
    o.hostname = text();
  } else if (key == "smtp_max_sessions") {
    o.max_sessions = static_cast<std::size_t>(count());
  } else if (key == "smtp_max_auth_failures") {
    o.max_auth_failures = static_cast<unsigned>(count());
  } else if (key == "smtp_idle_timeout_seconds") {
    o.idle_timeout = seconds();
  } else if (key == "smtp_command_timeout_seconds") {
    o.command_timeout = seconds();
  } else if (key == "smtp_allow_plain_auth_on_loopback") {
    auto b = value.value<bool>();
    if (!b) throw bad("true or false");
    o.allow_plain_auth_on_loopback = *b;
  } else if (key == "smtp_threads") {
    o.submit_threads = static_cast<unsigned>(std::max<std::int64_t>(1, count()));
  } else {
    return false;
  }
  return true;
}

}  // namespace

void load_config_file(const std::string& path, ServeOptions& options) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error("config file " + path + ": " + std::string(e.description()));
  }
  for (auto&& [key, value] : t) {
    std::string k(key.str());
    if (k == "listen") {
      auto s = value.value<std::string>();
      if (!s || !parse_listen(*s, options.host, options.port)) {
        throw std::runtime_error("config file " + path + ": listen must be \"HOST:PORT\"");
      }
    } else if (k == "data_dir") {
      options.data_dir = value.value<std::string>().value_or(options.data_dir);
    } else if (k == "database") {
      options.database = value.value<std::string>().value_or(options.database);
    } else if (k == "database_pool_size") {
      auto n = value.value<std::int64_t>().value_or(0);
      if (n < 1 || n > 1000) {
        throw std::runtime_error("config file " + path + ": database_pool_size must be 1..1000");
      }
      options.database_pool_size = static_cast<std::size_t>(n);
    } else if (k == "node_id") {
      options.node_id = value.value<std::string>().value_or(options.node_id);
    } else if (k == "lease_seconds") {
      auto v = value.value<double>();
      if (!v || !(*v >= 1 && *v <= 3600)) {
        throw std::runtime_error("config file " + path + ": lease_seconds must be 1..3600");
      }
      options.lease_seconds = *v;
    } else if (k == "threads") {
      options.threads = static_cast<unsigned>(value.value<std::int64_t>().value_or(0));
    } else if (k == "sandbox") {
      options.sandbox = value.value<bool>().value_or(false);
    } else if (k == "max_24_hour_send") {
      options.max_24_hour_send = value.value<double>().value_or(options.max_24_hour_send);
    } else if (k == "max_send_rate") {
      options.max_send_rate = value.value<double>().value_or(options.max_send_rate);
    } else if (k == "max_connections") {
      options.max_connections =
          static_cast<std::size_t>(value.value<std::int64_t>().value_or(10000));
    } else if (k == "max_body_bytes") {
      options.max_body_bytes =
          static_cast<std::size_t>(value.value<std::int64_t>().value_or(48 << 20));
    } else if (k == "region") {
      options.region = value.value<std::string>().value_or(options.region);
    } else if (k == "relay") {
      options.relay = value.value<std::string>().value_or(options.relay);
    } else if (k == "relay_retry_window") {
      options.relay_retry_window = value.value<double>().value_or(options.relay_retry_window);
    } else if (k == "relay_retry_initial") {
      options.relay_retry_initial = value.value<double>().value_or(options.relay_retry_initial);
    } else if (k == "relay_retry_max") {
      options.relay_retry_max = value.value<double>().value_or(options.relay_retry_max);
    } else if (k == "relay_timeout") {
      options.relay_timeout = value.value<double>().value_or(options.relay_timeout);
    } else if (k == "public_url") {
      options.public_url = value.value<std::string>().value_or(options.public_url);
    } else if (k == "cloudwatch_price_per_metric") {
      auto v = value.value<double>();
      if (!v || *v < 0)
        throw std::runtime_error("config file " + path + ": " + k + " must be >= 0");
      options.cloudwatch_price_per_metric = *v;
    } else if (k == "series_cap_per_destination") {
      auto v = value.value<std::int64_t>();
      if (!v || *v < 0)
        throw std::runtime_error("config file " + path + ": " + k + " must be >= 0");
      options.series_cap_per_destination = *v;
    } else if (k == "sns_subscriptions" && value.is_table()) {
      for (auto&& [arn, urls] : *value.as_table()) {
        auto& list = options.sns_subscribers[std::string(arn.str())];
        const toml::array* a = urls.as_array();
        if (!a)
          throw std::runtime_error("config file " + path +
                                   ": sns_subscriptions values are "
                                   "arrays of URLs");
        for (auto&& u : *a) {
          auto url = u.value<std::string>();
          if (!url) throw std::runtime_error("config file " + path + ": bad subscriber URL");
          list.push_back(*url);
        }
      }
    } else if (k == "eventbridge_targets" && value.is_table()) {
      for (auto&& [arn, url] : *value.as_table()) {
        auto u = url.value<std::string>();
        if (!u)
          throw std::runtime_error("config file " + path +
                                   ": eventbridge_targets values "
                                   "are URLs");
        options.eventbridge_targets[std::string(arn.str())] = *u;
      }
    } else if (!load_smtp_key(k, value, path, options.smtp)) {
      throw std::runtime_error("config file " + path + ": unknown key '" + k + "'");
    }
  }
}

}  // namespace mailtally::app
