// The metrics store's names for the shared SQLite layer (sqlite/connection.hpp).
//
// Threading: a Connection is used by one thread at a time (opened SQLITE_OPEN_NOMUTEX); the
// owner guarantees that. Errors throw MetricsDbError (a std::runtime_error) naming the SQL.
#pragma once

#include "sqlite/connection.hpp"

namespace mailtally::metrics::sql {

using mailtally::sqlite::Connection;
using mailtally::sqlite::ReadSnapshot;
using mailtally::sqlite::Sql;
using mailtally::sqlite::Statement;
using mailtally::sqlite::Transaction;
using MetricsDbError = mailtally::sqlite::SqliteError;

}  // namespace mailtally::metrics::sql
