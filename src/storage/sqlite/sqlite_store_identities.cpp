// SqliteStore: identities and access keys.
#include "storage/json_codec.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "storage/sqlite/statements.hpp"

namespace mailtally::storage {

using domain::AccessKey;
using domain::Identity;
using sqlite::Connection;

namespace {

// Reads a row of the identity columns, in the order kGetIdentity selects them.
Identity identity_from_row(const sqlite::Statement& s) {
  Identity id;
  id.name = std::string(s.text(0));
  id.type = parse_identity_type(s.text(1));
  id.status = parse_verification_status(s.text(2));
  id.verification_token = std::string(s.text(3));
  if (!s.is_null(4)) id.default_configuration_set = std::string(s.text(4));
  id.tags = decode_tags(s.text(5));
  id.created_at = s.real(6);
  return id;
}

AccessKey key_from_row(const sqlite::Statement& s) {
  return {std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2)), s.real(3)};
}

}  // namespace

// ---- identities ----

void SqliteStore::put_identity(const Identity& identity) {
  write([&](Connection& conn, sqlite::Transaction& tx) {
    sqlite::Statement s = use(conn, sqlite::kPutIdentity);
    s.bind(1, identity.name)
        .bind(2, identity_type_name(identity.type))
        .bind(3, verification_status_name(identity.status))
        .bind(4, identity.verification_token)
        .bind(6, encode_tags(identity.tags))
        .bind(7, identity.created_at);
    if (identity.default_configuration_set) {
      s.bind(5, *identity.default_configuration_set);
    } else {
      s.bind_null(5);
    }
    s.run();
    tx.commit();
  });
  invalidate_identities();
}

void SqliteStore::invalidate_identities() {
  std::unique_lock lock(identities_mu_);
  identities_.clear();
  ++identities_generation_;
}

std::optional<Identity> SqliteStore::get_identity(std::string_view name) {
  std::uint64_t generation;
  {
    std::shared_lock lock(identities_mu_);
    if (auto it = identities_.find(std::string(name)); it != identities_.end()) return it->second;
    generation = identities_generation_;
  }
  std::optional<Identity> found;
  {
    sqlite::ConnectionPool::Lease conn = pool_->acquire();
    sqlite::Statement s = use(*conn, sqlite::kGetIdentity);
    if (s.bind(1, name).step()) found = identity_from_row(s);
  }
  std::unique_lock lock(identities_mu_);
  // A write committed meanwhile may have made `found` stale: then do not keep it.
  if (generation == identities_generation_) {
    if (identities_.size() >= kMaxCachedIdentities) identities_.clear();
    identities_.emplace(std::string(name), found);
  }
  return found;
}

bool SqliteStore::delete_identity(std::string_view name) {
  bool deleted = delete_row(sqlite::kDeleteIdentity, name);
  invalidate_identities();
  return deleted;
}

std::vector<Identity> SqliteStore::list_identities(std::optional<domain::IdentityType> type,
                                                   std::string_view after, std::size_t limit) {
  std::vector<Identity> out;
  if (limit == 0) return out;
  sqlite::ConnectionPool::Lease conn = pool_->acquire();
  sqlite::Statement s = use(*conn, type ? sqlite::kListIdentitiesOfType : sqlite::kListIdentities);
  s.bind(1, after).bind(2, sqlite::to_sql_limit(limit));
  if (type) s.bind(3, identity_type_name(*type));
  while (s.step()) out.push_back(identity_from_row(s));
  return out;
}

// ---- access keys ----

void SqliteStore::put_access_key(const AccessKey& key) {
  write([&](Connection& conn, sqlite::Transaction& tx) {
    use(conn, sqlite::kPutKey)
        .bind(1, key.access_key_id)
        .bind(2, key.secret_access_key)
        .bind(3, key.name)
        .bind(4, key.created_at)
        .run();
    tx.commit();
  });
}

std::optional<AccessKey> SqliteStore::get_access_key(std::string_view access_key_id) {
  sqlite::ConnectionPool::Lease conn = pool_->acquire();
  sqlite::Statement s = use(*conn, sqlite::kGetKey);
  if (!s.bind(1, access_key_id).step()) return std::nullopt;
  return key_from_row(s);
}

std::vector<AccessKey> SqliteStore::list_access_keys() {
  std::vector<AccessKey> out;
  sqlite::ConnectionPool::Lease conn = pool_->acquire();
  sqlite::Statement s = use(*conn, sqlite::kListKeys);
  while (s.step()) out.push_back(key_from_row(s));
  return out;
}

bool SqliteStore::delete_access_key(std::string_view access_key_id) {
  return delete_row(sqlite::kDeleteKey, access_key_id);
}
}  // namespace mailtally::storage
