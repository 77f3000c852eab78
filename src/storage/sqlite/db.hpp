// The storage adapter's names for the shared SQLite layer (sqlite/connection.hpp).
#pragma once

#include "sqlite/connection.hpp"

namespace mailtally::storage::sqlite {

using mailtally::sqlite::Connection;
using mailtally::sqlite::SqliteError;
using mailtally::sqlite::Statement;
using mailtally::sqlite::Transaction;

}  // namespace mailtally::storage::sqlite
