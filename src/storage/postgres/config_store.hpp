// The PostgreSQL adapter of domain::ConfigStore (schema component "config"): configuration sets
// with their event destinations, identities and access keys, shared by every node on the
// database. Same observable behaviour as storage/sqlite/sqlite_store.hpp (ordering, paging,
// errors, limits).
//
// Several nodes: there is no cache, so a change committed by one node is seen by the next read
// on every node. create_configuration_set's limit check and insert run in one transaction under
// a transaction-level advisory lock (kCreateSetLock), so two nodes creating at once can never
// exceed `max_sets`. update_configuration_set reads the set row with SELECT ... FOR UPDATE, so
// concurrent read-modify-writes on any nodes are serialized and none is lost.
//
// Storage: names are TEXT COLLATE "C" (byte order, as SQLite's BINARY, whatever the database's
// locale). The JSON of records, destinations and tags (storage/json_codec.hpp) is kept as
// BYTEA, not TEXT: the codec keeps domain strings byte-exact, including bytes that are not UTF-8,
// which a UTF8 database refuses in TEXT. Timestamps are DOUBLE PRECISION epoch seconds
// (round-trip bit-exactly).
//
// Threading: any thread; each call borrows one pooled connection. update_configuration_set's
// `mutate` runs inside the transaction holding the set's row lock: it must be quick and must
// not call the store. The pool is borrowed and must outlive the store.
//
// Errors: domain failures are returned as domain::Error; database failures (connection lost,
// a record breaking a constraint such as two destinations with one name, corrupt JSON) throw
// std::runtime_error (pg::Error for the database's own).
#pragma once

#include <memory>

#include "domain/store.hpp"
#include "pg/pool.hpp"

namespace mailtally::storage {

class PgConfigStore final : public domain::ConfigStore {
 public:
  // Migrates the "config" schema component. Throws pg::Error.
  static std::unique_ptr<PgConfigStore> open(pg::Pool& pool);

  domain::Status create_configuration_set(const domain::ConfigurationSetRecord& record,
                                          std::size_t max_sets) override;
  std::optional<domain::ConfigurationSetRecord> get_configuration_set(
      std::string_view name) override;
  domain::Status update_configuration_set(
      std::string_view name,
      const std::function<domain::Status(domain::ConfigurationSetRecord&)>& mutate) override;
  bool delete_configuration_set(std::string_view name) override;
  std::vector<std::string> list_configuration_sets(std::string_view after,
                                                   std::size_t limit) override;

  void put_identity(const domain::Identity& identity) override;
  std::optional<domain::Identity> get_identity(std::string_view name) override;
  bool delete_identity(std::string_view name) override;
  std::vector<domain::Identity> list_identities(std::optional<domain::IdentityType> type,
                                                std::string_view after, std::size_t limit) override;

  void put_access_key(const domain::AccessKey& key) override;
  std::optional<domain::AccessKey> get_access_key(std::string_view access_key_id) override;
  std::vector<domain::AccessKey> list_access_keys() override;
  bool delete_access_key(std::string_view access_key_id) override;

 private:
  explicit PgConfigStore(pg::Pool& pool) : pool_(pool) {}
  pg::Pool& pool_;
};

}  // namespace mailtally::storage
