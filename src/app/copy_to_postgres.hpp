// `mailtally copy-to-postgres --data-dir DIR --database URL`: copies an embedded (SQLite) data
// dir into an empty PostgreSQL database, so a single node can move to the shared backend
// (docs/scale-out.md). The server of DIR must be stopped first.
//
// What it does: opens the PostgreSQL backend (creating every schema), then in ONE PostgreSQL
// transaction copies every table of DIR/mailtally.db and DIR/metrics.db whose name exists in
// the PostgreSQL schema, column by column (columns of the same name; values converted to the
// PostgreSQL column types), moves every sequence past the copied ids, and commits. Refuses
// (changing nothing) when a target table already holds rows, or a value does not fit.
#pragma once

#include <string>

namespace mailtally::app {

struct CopyReport {
  std::size_t tables = 0;
  std::size_t rows = 0;
  std::string details;  // one line per table: "name rows"
};

// Throws std::runtime_error (nothing committed) on any failure.
CopyReport copy_to_postgres(const std::string& data_dir, const std::string& database);

}  // namespace mailtally::app
