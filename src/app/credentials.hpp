// Access keys accepted by the server: those in the data dir's store, plus at most one from the
// environment (MAILTALLY_ACCESS_KEY_ID / MAILTALLY_SECRET_ACCESS_KEY).
//
// Thread-safe. Store lookups are cached for one second, so a key deleted with
// `mailtally keys delete` (or on another node) while the server runs stops working within it.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>

#include "auth/sigv4.hpp"
#include "base/clock.hpp"
#include "domain/store.hpp"

namespace mailtally::app {

class StoreCredentials final : public auth::CredentialSource {
 public:
  // `store` and `clock` must outlive this object.
  StoreCredentials(domain::ConfigStore& store, const base::Clock& clock,
                   std::optional<auth::Credential> environment);
  std::optional<auth::Credential> find(std::string_view access_key_id) const override;

 private:
  struct Cached {
    auth::Credential credential;
    base::TimePoint fetched;
  };
  domain::ConfigStore& store_;
  const base::Clock& clock_;
  std::optional<auth::Credential> environment_;
  mutable std::shared_mutex mu_;
  mutable std::map<std::string, Cached, std::less<>> cache_;
};

// Creates a new random key pair (AKIA-style id of 20 characters, 40-character secret).
domain::AccessKey make_access_key(std::string name, double created_at);

}  // namespace mailtally::app
