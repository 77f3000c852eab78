// Internal to the SQLite adapters: a statement prepared for one use and finalized afterwards,
// for rarely run SQL that should not take one of the connection's fixed cache slots.
//
// Threading: as the Connection it is prepared on (one thread at a time).
#pragma once

#include <optional>
#include <string_view>

#include "storage/sqlite/db.hpp"

namespace mailtally::storage::sqlite {

class Prepared {
 public:
  Prepared(Connection& conn, std::string_view sql) {
    int rc = sqlite3_prepare_v2(conn.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_,
                                nullptr);
    if (rc != SQLITE_OK) conn.fail(rc, "prepare");
    use_.emplace(conn, stmt_);
  }
  ~Prepared() {
    use_.reset();  // resets the statement first
    sqlite3_finalize(stmt_);
  }
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;

  Statement& operator*() { return *use_; }
  Statement* operator->() { return &*use_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  std::optional<Statement> use_;
};

}  // namespace mailtally::storage::sqlite
