// The SQLite adapter of domain::SendingStore (queue, event log, mailbox, event cursors) over the
// same database file as SqliteStore (schema migrations 2 and 3: relay deferrals).
//
// Threading: every method may be called from any number of threads. Reads borrow a pooled
// connection; writes also take this store's write mutex and run in one BEGIN IMMEDIATE
// transaction. Enqueues (sync and async) go through one group-commit thread that puts every
// enqueue waiting at that moment into one transaction (serialized with other processes and with
// SqliteStore by SQLite's write lock and its 5 s busy timeout). Durability as
// SqliteOptions::durability says. Database failures throw std::runtime_error (sqlite::SqliteError).
#pragma once

#include <limits>
#include <memory>
#include <mutex>
#include <string>

#include "domain/sending_store.hpp"
#include "storage/sqlite/connection_pool.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace mailtally::sqlite {
class Connection;
}  // namespace mailtally::sqlite

namespace mailtally::storage {

namespace sqlite {
using mailtally::sqlite::Connection;
class ConnectionPool;
class GroupCommitter;
class Checkpointer;
}  // namespace sqlite

class SqliteSendingStore final : public domain::SendingStore {
 public:
  // Opens (creating with mode 0600 and migrating as needed) the database at `path`.
  static std::unique_ptr<SqliteSendingStore> open(const std::string& path,
                                                  SqliteOptions options = {});
  ~SqliteSendingStore() override;
  SqliteSendingStore(const SqliteSendingStore&) = delete;
  SqliteSendingStore& operator=(const SqliteSendingStore&) = delete;

  std::int64_t enqueue(const domain::QueuedMessage& message,
                       const std::vector<domain::NewEvent>& events, double now) override;
  void enqueue_async(domain::QueuedMessage message, std::vector<domain::NewEvent> events,
                     double now, EnqueueDone done) override;
  // Enqueue transactions committed so far (each holds one or more messages).
  std::uint64_t enqueue_batches() const;
  std::vector<domain::QueuedMessage> queued(
      std::int64_t after_id, std::size_t limit, std::size_t shard, std::size_t shards,
      double due_by = std::numeric_limits<double>::infinity()) override;
  std::size_t queue_depth() override;
  std::size_t complete(const std::vector<Completion>& completions, double now) override;

  std::vector<domain::LoggedEvent> events(const domain::EventFilter& filter) override;
  std::vector<domain::MailboxEntry> mailbox(std::optional<std::string> recipient,
                                            std::size_t limit) override;
  std::optional<domain::MailboxEntry> mailbox_message(std::string_view message_id) override;
  std::optional<std::string> raw_message(std::string_view message_id) override;

  bool append_message_events(std::string_view message_id, const MakeEvents& make,
                             double now) override;
  std::string server_secret(std::string_view name, std::string_view candidate) override;

  std::optional<std::int64_t> cursor(std::string_view configuration_set,
                                     std::string_view destination) override;
  void advance_cursor(std::string_view configuration_set, std::string_view destination,
                      std::int64_t seq) override;

 private:
  SqliteSendingStore(std::unique_ptr<sqlite::ConnectionPool> pool,
                     std::unique_ptr<sqlite::Checkpointer> checkpointer);

  std::unique_ptr<sqlite::ConnectionPool> pool_;
  std::unique_ptr<sqlite::Checkpointer> checkpointer_;
  std::mutex& write_mu_ = sqlite::shared_write_mutex();  // taken after a connection lease, held for
                                                         // the whole transaction
  std::unique_ptr<sqlite::GroupCommitter> committer_;    // last: its thread uses the members above
};

}  // namespace mailtally::storage
