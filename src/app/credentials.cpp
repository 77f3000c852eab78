#include "app/credentials.hpp"

#include "base/crypto.hpp"

namespace mailtally::app {
namespace {
constexpr auto kCacheTtl = std::chrono::seconds(1);  // other nodes' key changes show within 1 s
}

StoreCredentials::StoreCredentials(domain::ConfigStore& store, const base::Clock& clock,
                                   std::optional<auth::Credential> environment)
    : store_(store), clock_(clock), environment_(std::move(environment)) {}

std::optional<auth::Credential> StoreCredentials::find(std::string_view id) const {
  if (environment_ && environment_->access_key_id == id) return environment_;
  const auto now = clock_.now();
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(id);
    if (it != cache_.end() && now - it->second.fetched < kCacheTtl) return it->second.credential;
  }
  auto key = store_.get_access_key(id);
  std::unique_lock lock(mu_);
  if (!key) {
    cache_.erase(std::string(id));
    return std::nullopt;
  }
  auth::Credential c{key->access_key_id, key->secret_access_key, key->name};
  if (cache_.size() > 10000) cache_.clear();
  cache_[key->access_key_id] = Cached{c, now};
  return c;
}

domain::AccessKey make_access_key(std::string name, double created_at) {
  domain::AccessKey k;
  k.access_key_id = "MTLY" + base::random_token(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
  k.secret_access_key =
      base::random_token(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  k.name = std::move(name);
  k.created_at = created_at;
  return k;
}

}  // namespace mailtally::app
