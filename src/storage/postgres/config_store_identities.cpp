// PgConfigStore: identities and access keys. No cache (the SQLite store has one for identities):
// a put or delete on any node is seen by the next read on every node.
#include "storage/json_codec.hpp"
#include "storage/postgres/config_store.hpp"
#include "storage/postgres/sql_util.hpp"

namespace mailtally::storage {

using domain::AccessKey;
using domain::Identity;

namespace {

#define MAILTALLY_IDENTITY_COLUMNS \
  "name, type, status, token, default_configuration_set, tags, created_at"
constexpr std::string_view kGetIdentity =
    "SELECT " MAILTALLY_IDENTITY_COLUMNS " FROM identities WHERE name = $1";
constexpr std::string_view kListIdentities = "SELECT " MAILTALLY_IDENTITY_COLUMNS
                                             " FROM identities WHERE name > $1 "
                                             "ORDER BY name LIMIT $2";
constexpr std::string_view kListIdentitiesOfType = "SELECT " MAILTALLY_IDENTITY_COLUMNS
                                                   " FROM identities WHERE type = $3 AND "
                                                   "name > $1 ORDER BY name LIMIT $2";
#undef MAILTALLY_IDENTITY_COLUMNS

// Row `i` of the identity columns, in the order the statements above select them.
Identity identity_from_row(const pg::Result& r, int i) {
  Identity id;
  id.name = r.str(i, 0);
  id.type = parse_identity_type(r.text(i, 1));
  id.status = parse_verification_status(r.text(i, 2));
  id.verification_token = r.str(i, 3);
  id.default_configuration_set = r.opt_str(i, 4);
  id.tags = decode_tags(r.bytea(i, 5));
  id.created_at = r.real(i, 6);
  return id;
}

AccessKey key_from_row(const pg::Result& r, int i) {
  return {r.str(i, 0), r.str(i, 1), r.str(i, 2), r.real(i, 3)};
}

constexpr std::string_view kKeyColumns = "SELECT access_key_id, secret, name, created_at ";

}  // namespace

// ---- identities ----

void PgConfigStore::put_identity(const Identity& identity) {
  std::string tags = encode_tags(identity.tags);
  pool_.with_connection([&](pg::Connection& conn) {
    conn.run(
        "INSERT INTO identities (name, type, status, token, default_configuration_set, tags, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET "
        "type = excluded.type, status = excluded.status, token = excluded.token, "
        "default_configuration_set = excluded.default_configuration_set, tags = excluded.tags, "
        "created_at = excluded.created_at",
        {identity.name, identity_type_name(identity.type),
         verification_status_name(identity.status), identity.verification_token,
         pgsql::opt_text(identity.default_configuration_set), pg::Bytes{tags},
         identity.created_at});
  });
}

std::optional<Identity> PgConfigStore::get_identity(std::string_view name) {
  return pool_.with_connection([&](pg::Connection& conn) -> std::optional<Identity> {
    auto r = conn.query(kGetIdentity, {name});
    if (r.empty()) return std::nullopt;
    return identity_from_row(r, 0);
  });
}

bool PgConfigStore::delete_identity(std::string_view name) {
  return pool_.with_connection([&](pg::Connection& conn) {
    return conn.run("DELETE FROM identities WHERE name = $1", {name}) > 0;
  });
}

std::vector<Identity> PgConfigStore::list_identities(std::optional<domain::IdentityType> type,
                                                     std::string_view after, std::size_t limit) {
  std::vector<Identity> out;
  if (limit == 0) return out;
  pool_.with_connection([&](pg::Connection& conn) {
    auto r = type ? conn.query(kListIdentitiesOfType,
                               {after, pgsql::to_sql_limit(limit), identity_type_name(*type)})
                  : conn.query(kListIdentities, {after, pgsql::to_sql_limit(limit)});
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(identity_from_row(r, i));
  });
  return out;
}

// ---- access keys ----

void PgConfigStore::put_access_key(const AccessKey& key) {
  pool_.with_connection([&](pg::Connection& conn) {
    conn.run(
        "INSERT INTO access_keys (access_key_id, secret, name, created_at) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (access_key_id) DO UPDATE SET "
        "secret = excluded.secret, name = excluded.name, created_at = excluded.created_at",
        {key.access_key_id, key.secret_access_key, key.name, key.created_at});
  });
}

std::optional<AccessKey> PgConfigStore::get_access_key(std::string_view access_key_id) {
  return pool_.with_connection([&](pg::Connection& conn) -> std::optional<AccessKey> {
    auto r = conn.query(std::string(kKeyColumns) + "FROM access_keys WHERE access_key_id = $1",
                        {access_key_id});
    if (r.empty()) return std::nullopt;
    return key_from_row(r, 0);
  });
}

std::vector<AccessKey> PgConfigStore::list_access_keys() {
  std::vector<AccessKey> out;
  pool_.with_connection([&](pg::Connection& conn) {
    auto r = conn.query(std::string(kKeyColumns) + "FROM access_keys ORDER BY access_key_id");
    for (int i = 0; i < r.rows(); ++i) out.push_back(key_from_row(r, i));
  });
  return out;
}

bool PgConfigStore::delete_access_key(std::string_view access_key_id) {
  return pool_.with_connection([&](pg::Connection& conn) {
    return conn.run("DELETE FROM access_keys WHERE access_key_id = $1", {access_key_id}) > 0;
  });
}

}  // namespace mailtally::storage
