// TOML configuration file reading (toml++ kept to this one translation unit).
#include <toml++/toml.h>

#include <stdexcept>

#include "app/server_app.hpp"

namespace mailtally::app {

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
    } else {
      throw std::runtime_error("config file " + path + ": unknown key '" + k + "'");
    }
  }
}

}  // namespace mailtally::app
