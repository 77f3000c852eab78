// The configuration-set, event-destination and identity rules, over a ConfigStore.
// Both SES API versions call this one class, so v1 and v2 see the same state and rules.
//
// Thread-safe: holds no mutable state of its own; atomicity comes from the store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "domain/error.hpp"
#include "domain/send_statistics.hpp"
#include "domain/store.hpp"
#include "domain/types.hpp"

namespace mailtally::domain {

struct AccountSettings {
  bool sandbox = false;  // sending requires verified identities (SES sandbox)
  double max_24_hour_send = 200000;
  double max_send_rate = 1000;  // messages per second
  bool sending_enabled = true;
  // Recent sending (SentLast24Hours, statistics); nullptr reports none. Not owned.
  const SendingUsage* usage = nullptr;
};

template <class T>
struct Page {
  std::vector<T> items;
  std::optional<std::string> next_token;  // opaque; present when more items follow
};

class ControlPlane {
 public:
  // `store` and `clock` must outlive this object.
  ControlPlane(ConfigStore& store, const base::Clock& clock, AccountSettings settings = {});

  const AccountSettings& settings() const { return settings_; }

  // ---- configuration sets ----
  Status create_configuration_set(ConfigurationSet set);
  Result<ConfigurationSetRecord> get_configuration_set(std::string_view name) const;
  Status delete_configuration_set(std::string_view name);
  // `limit` is clamped to 1..1000; `token` comes from a previous page.
  Result<Page<std::string>> list_configuration_sets(const std::optional<std::string>& token,
                                                    std::size_t limit) const;
  // Changes options of an existing set (Put*Options, Update*), atomically; `change` may refuse
  // with an error, which is returned unchanged. NotFound when the set is absent. A custom
  // redirect domain left by `change` must be a valid domain name.
  Status update_configuration_set_options(std::string_view name,
                                          const std::function<Status(ConfigurationSet&)>& change);

  // ---- event destinations ----
  Status create_event_destination(std::string_view set, EventDestination destination);
  Status update_event_destination(std::string_view set, EventDestination destination);
  Status delete_event_destination(std::string_view set, std::string_view destination);
  Result<std::vector<EventDestination>> get_event_destinations(std::string_view set) const;

  // ---- identities ----
  // Verifies at once (no mail can prove ownership here). With `must_be_new`, an existing
  // identity fails AlreadyExists (v2); otherwise the call is idempotent (v1).
  Result<Identity> create_identity(std::string name, IdentityType type, bool must_be_new,
                                   std::optional<std::string> default_configuration_set = {},
                                   std::vector<ResourceTag> tags = {});
  Result<Identity> get_identity(std::string_view name) const;
  // NotFound when `must_exist` and absent; otherwise deleting nothing succeeds (v1).
  Status delete_identity(std::string_view name, bool must_exist);
  Result<Page<Identity>> list_identities(std::optional<IdentityType> type,
                                         const std::optional<std::string>& token,
                                         std::size_t limit) const;

 private:
  ConfigStore& store_;
  const base::Clock& clock_;
  AccountSettings settings_;
};

// Identity type from the name: an '@' makes it an email address.
IdentityType identity_type_of(std::string_view name);

}  // namespace mailtally::domain
