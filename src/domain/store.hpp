// Storage interfaces the domain needs. Adapters (storage/sqlite, later storage/postgres)
// implement them. Every method is thread-safe, and every change is durable (survives kill -9)
// once the call returns.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.hpp"
#include "domain/types.hpp"

namespace mailtally::domain {

struct AccessKey {
  std::string access_key_id;
  std::string secret_access_key;
  std::string name;
  double created_at = 0;
};

class ConfigStore {
 public:
  virtual ~ConfigStore() = default;

  // ---- configuration sets (with their event destinations) ----
  // Inserts a new record. Fails AlreadyExists when the name is taken, LimitExceeded when the
  // store already holds `max_sets` sets; the check and the insert are one transaction.
  virtual Status create_configuration_set(const ConfigurationSetRecord& record,
                                          std::size_t max_sets) = 0;
  virtual std::optional<ConfigurationSetRecord> get_configuration_set(std::string_view name) = 0;
  // Reads the record, lets `mutate` change it (or fail), and writes it back, all in one
  // transaction. NotFound when there is no such set. `mutate` must not change the name.
  virtual Status update_configuration_set(
      std::string_view name, const std::function<Status(ConfigurationSetRecord&)>& mutate) = 0;
  // false when there was no such set.
  virtual bool delete_configuration_set(std::string_view name) = 0;
  // Names in ascending order, strictly after `after` (empty: from the start), at most `limit`.
  virtual std::vector<std::string> list_configuration_sets(std::string_view after,
                                                           std::size_t limit) = 0;

  // ---- identities ----
  // Inserts or replaces (verification requests are idempotent in SES).
  virtual void put_identity(const Identity& identity) = 0;
  virtual std::optional<Identity> get_identity(std::string_view name) = 0;
  virtual bool delete_identity(std::string_view name) = 0;
  // Ascending by name, strictly after `after`, at most `limit`; optionally one type only.
  virtual std::vector<Identity> list_identities(std::optional<IdentityType> type,
                                                std::string_view after, std::size_t limit) = 0;

  // ---- access keys ----
  virtual void put_access_key(const AccessKey& key) = 0;
  virtual std::optional<AccessKey> get_access_key(std::string_view access_key_id) = 0;
  virtual std::vector<AccessKey> list_access_keys() = 0;
  virtual bool delete_access_key(std::string_view access_key_id) = 0;
};

}  // namespace mailtally::domain
