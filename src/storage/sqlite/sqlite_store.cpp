// SqliteStore: opening, and the configuration sets. Identities and access keys are in
// sqlite_store_identities.cpp.
#include "storage/sqlite/sqlite_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "storage/json_codec.hpp"
#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/statements.hpp"

namespace mailtally::storage {

using domain::ConfigurationSetRecord;
using domain::ErrorKind;
using domain::EventDestination;
using domain::Status;
using domain::Subject;
using sqlite::Connection;

namespace {

// Creates `path` with mode 0600 if it does not exist (exactly 0600, whatever the umask), so the
// database (which holds secret keys) is never readable by others. SQLite gives the -wal and -shm
// files the mode of the database file. An existing file keeps its mode.
void create_private_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return;
    throw std::runtime_error("sqlite store: cannot create database file '" + path +
                             "': " + std::strerror(errno));
  }
  int rc = ::fchmod(fd, 0600);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    throw std::runtime_error("sqlite store: cannot set mode 0600 on '" + path +
                             "': " + std::strerror(err));
  }
}

// Belt and braces: takes group/other access off the -wal and -shm files if present.
void restrict_side_files(const std::string& path) {
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string side = path + suffix;
    struct stat st {};
    if (::stat(side.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) ::chmod(side.c_str(), 0600);
  }
}

std::unique_ptr<Connection> open_connection(const std::string& path, const SqliteOptions& options) {
  auto conn = std::make_unique<Connection>(path, options.exclusive_process ? "unix-excl" : nullptr);
  sqlite::configure_connection(*conn, options.durability == Durability::PowerLoss);
  return conn;
}

// Reads a configuration set with its destinations using one statement (one consistent
// snapshot, even outside a transaction).
std::optional<ConfigurationSetRecord> read_set(Connection& conn, std::string_view name) {
  sqlite::Statement s = use(conn, sqlite::kGetSet);
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  ConfigurationSetRecord record;
  record.set.name = std::string(name);
  decode_set_options(s.text(0), record.set);
  if (!s.is_null(1)) record.set.last_fresh_start = s.real(1);
  record.set.created_at = s.real(2);
  if (s.is_null(3)) return record;  // LEFT JOIN found no destination
  std::vector<std::pair<std::int64_t, EventDestination>> rows;
  do {
    rows.emplace_back(s.integer(4), decode_destination(std::string(s.text(3)), s.text(5)));
  } while (s.step());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  record.destinations.reserve(rows.size());
  for (auto& row : rows) record.destinations.push_back(std::move(row.second));
  return record;
}

// Binds ?2 record, ?3 last_fresh_start, ?4 created_at of a configuration set row.
void bind_set_columns(sqlite::Statement& s, const domain::ConfigurationSet& set) {
  s.bind(2, encode_set_options(set));
  if (set.last_fresh_start) {
    s.bind(3, *set.last_fresh_start);
  } else {
    s.bind_null(3);
  }
  s.bind(4, set.created_at);
}

// Replaces the stored destinations of `set_name` from position `from` on with
// destinations[from...]; positions before `from` are known to be unchanged.
void write_destinations_from(Connection& conn, std::string_view set_name,
                             const std::vector<EventDestination>& destinations, std::size_t from) {
  use(conn, sqlite::kDeleteDestinationsFrom)
      .bind(1, set_name)
      .bind(2, static_cast<std::int64_t>(from))
      .run();
  for (std::size_t i = from; i < destinations.size(); ++i) {
    use(conn, sqlite::kInsertDestination)
        .bind(1, set_name)
        .bind(2, destinations[i].name)
        .bind(3, static_cast<std::int64_t>(i))
        .bind(4, encode_destination(destinations[i]))
        .run();
  }
}

// The number of configuration sets, counting no further than `cap`.
std::size_t count_sets(Connection& conn, std::size_t cap) {
  sqlite::Statement s = use(conn, sqlite::kCountSets);
  s.bind(1, sqlite::to_sql_limit(cap)).step();
  return static_cast<std::size_t>(s.integer(0));
}

domain::Error not_found(std::string_view name) {
  return {ErrorKind::NotFound,
          Subject::ConfigurationSet,
          "Configuration set " + std::string(name) + " does not exist.",
          std::string(name),
          {}};
}

}  // namespace

// ---- lifecycle ----

SqliteStore::SqliteStore(std::unique_ptr<sqlite::ConnectionPool> pool) : pool_(std::move(pool)) {}

SqliteStore::~SqliteStore() = default;

std::unique_ptr<SqliteStore> SqliteStore::open(const std::string& path, SqliteOptions options) {
  if (path.empty() || path == ":memory:") {
    throw std::runtime_error("sqlite store: a database file path is required (got '" + path + "')");
  }
  if (sqlite3_threadsafe() == 0) {
    throw std::runtime_error("sqlite store: the SQLite library was built without thread support");
  }
  create_private_file(path);
  std::unique_ptr<Connection> first;
  try {
    first = open_connection(path, options);
    sqlite::migrate(*first);
  } catch (const sqlite::SqliteError& e) {
    bool busy = (e.code() & 0xff) == SQLITE_BUSY;
    throw std::runtime_error("cannot open configuration store '" + path + "': " + e.what() +
                             (busy ? " (is another process using the file?)" : ""));
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot open configuration store '" + path + "': " + e.what());
  }
  restrict_side_files(path);
  auto pool = std::make_unique<sqlite::ConnectionPool>(
      [path, options] { return open_connection(path, options); }, options.max_connections);
  pool->adopt(std::move(first));
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(pool)));
}

bool SqliteStore::delete_row(const sqlite::Sql& sql, std::string_view key) {
  return write([&](Connection& conn, sqlite::Transaction& tx) {
    bool deleted = use(conn, sql).bind(1, key).run() > 0;
    tx.commit();
    return deleted;
  });
}

// ---- configuration sets ----

Status SqliteStore::create_configuration_set(const ConfigurationSetRecord& record,
                                             std::size_t max_sets) {
  const std::string& name = record.set.name;
  return write([&](Connection& conn, sqlite::Transaction& tx) -> Status {
    if (use(conn, sqlite::kSetExists).bind(1, name).step()) {
      return domain::fail(ErrorKind::AlreadyExists, Subject::ConfigurationSet,
                          "Configuration set " + name + " already exists.", name);
    }
    if (count_sets(conn, max_sets) >= max_sets) {
      return domain::fail(
          ErrorKind::LimitExceeded, Subject::ConfigurationSet,
          "Maximum number of configuration sets (" + std::to_string(max_sets) + ") reached.", name);
    }
    sqlite::Statement insert = use(conn, sqlite::kInsertSet);
    insert.bind(1, name);
    bind_set_columns(insert, record.set);
    insert.run();
    write_destinations_from(conn, name, record.destinations, 0);
    tx.commit();
    invalidate_names();
    return base::Ok{};
  });
}

std::optional<ConfigurationSetRecord> SqliteStore::get_configuration_set(std::string_view name) {
  sqlite::ConnectionPool::Lease conn = pool_->acquire();
  return read_set(*conn, name);
}

Status SqliteStore::update_configuration_set(
    std::string_view name, const std::function<Status(ConfigurationSetRecord&)>& mutate) {
  return write([&](Connection& conn, sqlite::Transaction& tx) -> Status {
    std::optional<ConfigurationSetRecord> before = read_set(conn, name);
    if (!before) return base::unexpected(not_found(name));
    ConfigurationSetRecord after = *before;
    Status status = mutate(after);
    if (!status) return status;  // nothing written; the transaction rolls back
    if (after.set.name != name) {
      throw std::logic_error("update_configuration_set: mutate renamed configuration set " +
                             std::string(name));
    }
    if (!(after.set == before->set)) {
      sqlite::Statement update = use(conn, sqlite::kUpdateSet);
      update.bind(1, name);
      bind_set_columns(update, after.set);
      update.run();
    }
    // Rewrite destinations only from the first one that differs (appending writes one row).
    auto [old_end, new_end] =
        std::mismatch(before->destinations.begin(), before->destinations.end(),
                      after.destinations.begin(), after.destinations.end());
    if (old_end != before->destinations.end() || new_end != after.destinations.end()) {
      write_destinations_from(conn, name, after.destinations,
                              static_cast<std::size_t>(new_end - after.destinations.begin()));
    }
    tx.commit();
    return status;
  });
}

bool SqliteStore::delete_configuration_set(std::string_view name) {
  // Destinations go with it (ON DELETE CASCADE); changes() counts only the set row.
  bool deleted = delete_row(sqlite::kDeleteSet, name);
  if (deleted) invalidate_names();
  return deleted;
}

void SqliteStore::invalidate_names() {
  std::unique_lock lock(names_mu_);
  names_.reset();
  ++names_generation_;
}

std::vector<std::string> SqliteStore::list_configuration_sets(std::string_view after,
                                                              std::size_t limit) {
  std::vector<std::string> page;
  if (limit == 0) return page;
  std::shared_ptr<const std::vector<std::string>> names;
  std::uint64_t generation;
  {
    std::shared_lock lock(names_mu_);
    names = names_;
    generation = names_generation_;
  }
  if (!names) {
    auto loaded = std::make_shared<std::vector<std::string>>();
    {
      sqlite::ConnectionPool::Lease conn = pool_->acquire();
      sqlite::Statement s = use(*conn, sqlite::kListSets);
      s.bind(1, std::string_view("")).bind(2, sqlite::to_sql_limit(SIZE_MAX));
      while (s.step()) loaded->emplace_back(s.text(0));
    }
    names = loaded;
    // Install only if no write happened meanwhile (else this list may be stale).
    std::unique_lock lock(names_mu_);
    if (generation == names_generation_) names_ = names;
  }
  auto it = std::upper_bound(names->begin(), names->end(), after);
  for (; it != names->end() && page.size() < limit; ++it) page.push_back(*it);
  return page;
}

}  // namespace mailtally::storage
