// Internal to storage/postgres: small helpers shared by the adapters' translation units.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "pg/connection.hpp"

namespace mailtally::storage::pgsql {

// PostgreSQL's LIMIT takes a signed 64-bit count; larger limits mean "no limit".
inline std::int64_t to_sql_limit(std::size_t n) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(n < kMax ? n : kMax);
}

// NULL when unset. The Param refers to `v`'s string: keep `v` alive until the query ran.
inline pg::Param opt_text(const std::optional<std::string>& v) {
  if (v) return std::string_view(*v);
  return nullptr;
}
inline pg::Param opt_bytes(const std::optional<std::string>& v) {
  if (v) return pg::Bytes{*v};
  return nullptr;
}
inline pg::Param opt_real(const std::optional<double>& v) {
  if (v) return *v;
  return nullptr;
}

inline std::optional<std::string> opt_bytea(const pg::Result& r, int row, int col) {
  if (r.is_null(row, col)) return std::nullopt;
  return r.bytea(row, col);
}

// Transaction-level advisory lock keys (pg_advisory_xact_lock) of storage/postgres. pg::migrate
// uses 7220000001; keys here are 72200001xx.
inline constexpr std::int64_t kCreateSetLock = 7220000101;       // configuration set limit
inline constexpr std::int64_t kCreateTemplateLock = 7220000102;  // template limit

}  // namespace mailtally::storage::pgsql
