// The embedded SQLite adapter of domain::ConfigStore: one database file, WAL mode.
//
// Threading: every method may be called from any number of threads at once. Each call borrows a
// connection from a bounded pool (opened lazily) for its duration; reads run in parallel
// (WAL readers never block), writes are serialized by an in-process mutex and a
// BEGIN IMMEDIATE transaction (which also serializes against other processes using the file,
// waiting up to the 5 s busy timeout). update_configuration_set's `mutate` runs inside the
// write transaction, holding the write lock: it must be quick and must not call the store.
//
// Durability: a change is committed before its call returns. With Durability::Process
// (synchronous=NORMAL) committed changes survive the process being killed (kill -9, crash),
// which is what ConfigStore promises; with Durability::PowerLoss (synchronous=FULL, an fsync per
// commit, noticeably slower writes) they also survive power loss or an OS crash.
//
// Errors: domain failures are returned as domain::Error; database failures (I/O error, disk
// full, lock wait timeout, corrupt data, a record breaking a constraint such as two destinations
// with one name) throw std::runtime_error (sqlite::SqliteError for SQLite errors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "domain/store.hpp"

namespace mailtally::sqlite {
class Connection;
}  // namespace mailtally::sqlite

namespace mailtally::storage {

namespace sqlite {
using mailtally::sqlite::Connection;
class ConnectionPool;
struct Sql;
std::mutex& shared_write_mutex();  // connection_pool.hpp
}  // namespace sqlite

enum class Durability {
  Process,    // synchronous=NORMAL: survives kill -9 of the process
  PowerLoss,  // synchronous=FULL: also survives power loss / kernel crash
};

struct SqliteOptions {
  Durability durability = Durability::Process;
  // Upper bound on open connections; callers beyond it wait for a free one. About the number of
  // worker threads is right.
  std::size_t max_connections = 8;
  // false (default): ordinary POSIX locking; other processes (`mailtally keys create` while
  // the server runs, the sqlite3 shell) may read and write the file concurrently.
  // true: the process takes an exclusive lock on the file when it first reads it (SQLite's
  // "unix-excl" VFS). Connections of this process are unaffected, but any other process fails
  // with "database is locked" after the busy timeout. The WAL index then lives on the heap, so
  // a read needs no file-lock system calls: measured here (a VM with costly syscalls) a point
  // read drops from ~4.6 us to ~1.0 us.
  bool exclusive_process = false;
  // Sending store only: the most bytes of its intake log (storage/intake/log.hpp) that may wait
  // to be indexed. Beyond it, acknowledging sends waits for the indexer, so that a sustained
  // overload slows the senders down instead of growing the backlog without bound.
  std::uint64_t intake_backlog_bytes = 1ull << 30;
};

class SqliteStore final : public domain::ConfigStore {
 public:
  // Opens the store at `path` (a file name; ":memory:" is not supported), creating the file
  // with mode 0600 if it does not exist, and migrates its schema to the latest version. Throws
  // std::runtime_error with a clear message when the file cannot be opened or created, is not
  // a mailtally database, or has a schema newer than this build knows.
  static std::unique_ptr<SqliteStore> open(const std::string& path, SqliteOptions options = {});

  // Every call on the store must have returned before it is destroyed.
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

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
  explicit SqliteStore(std::unique_ptr<sqlite::ConnectionPool> pool);

  // Runs body(Connection&, Transaction&) inside a BEGIN IMMEDIATE transaction holding
  // write_mu_. The body commits; if it returns or throws without committing, it rolls back.
  template <class Body>
  auto write(Body&& body);

  // Runs the one-parameter DELETE `sql` for `key` in a write transaction; true if a row went.
  bool delete_row(const sqlite::Sql& sql, std::string_view key);

  // Drops the cached name list after a committed create or delete.
  void invalidate_names();

  std::unique_ptr<sqlite::ConnectionPool> pool_;
  std::mutex& write_mu_ = sqlite::shared_write_mutex();  // one writer per process at a time; taken
                                                         // after a connection lease

  // Every configuration set name, sorted, for ListConfigurationSets (a hot read path): loaded on
  // first use, dropped by this process's creates and deletes. Only this process changes sets
  // (other processes on the data dir, such as `mailtally keys`, touch keys only).
  std::shared_mutex names_mu_;
  std::shared_ptr<const std::vector<std::string>> names_;  // guarded by names_mu_
  std::uint64_t names_generation_ = 0;                     // guarded by names_mu_

  // Identity lookups by name (the send path reads two per message), negative answers included:
  // filled on read, dropped whole by this process's identity writes. As for set names, only
  // this process writes identities. Bounded: cleared when it reaches kMaxCachedIdentities.
  static constexpr std::size_t kMaxCachedIdentities = 10000;
  std::shared_mutex identities_mu_;
  std::unordered_map<std::string, std::optional<domain::Identity>> identities_;  // guarded
  std::uint64_t identities_generation_ = 0;  // guarded by identities_mu_
  void invalidate_identities();
};

}  // namespace mailtally::storage
