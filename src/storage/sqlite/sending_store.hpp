// The SQLite adapter of domain::SendingStore (queue, event log, mailbox, event cursors) over the
// same database file as SqliteStore (schema migrations 2 and 3: relay deferrals).
//
// Intake: an enqueue is acknowledged once it is in the intake log (storage/intake/log.hpp, the
// directory `intake` next to the database file): the "intake" thread appends every enqueue
// waiting at that moment with one write. The "indexer" thread then copies the log into the
// tables in large transactions, recording in each how far it got, so a restart (also after
// kill -9) indexes exactly what was not yet indexed. The request path thus never waits for
// SQLite (its commits, checkpoints, WAL restarts). wait_readable() (and every read that serves a
// user: events() unless read_own_writes is off, the mailbox, raw_message) waits for the indexer.
//
// Threading: every method may be called from any number of threads. Reads borrow a pooled
// connection; every write of this store (indexing, completions, cursors, events) runs on one
// group-commit thread, which takes the process-wide write mutex per transaction. Durability as
// SqliteOptions::durability says (PowerLoss: the intake log is also fdatasync'ed per batch).
// Database failures throw std::runtime_error (sqlite::SqliteError).
#pragma once

#include <condition_variable>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/batch_committer.hpp"
#include "base/wake_signal.hpp"
#include "domain/sending_store.hpp"
#include "storage/intake/log.hpp"
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
  void wait_readable() override;
  void set_readable_listener(std::function<void()> listener) override;
  // Enqueue transactions committed so far (each holds one or more messages).
  std::uint64_t enqueue_batches() const;
  // Where the indexer got to in the intake log.
  intake::Position indexed_position() const;
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
  struct IntakeJob {
    std::string entry;  // an intake::Log frame (sealed) of the intake::encode()d entry
    EnqueueDone done;
  };

  SqliteSendingStore(std::unique_ptr<sqlite::ConnectionPool> pool,
                     std::unique_ptr<sqlite::Checkpointer> checkpointer);
  // Opens the intake log and indexes what it holds beyond the stored position (open() only).
  void start_intake(const std::string& dir, bool sync, std::uint64_t backlog_bytes);
  // Waits while more than the allowed backlog of the intake log is unindexed (intake thread).
  void wait_for_index_room();
  // Indexes up to `max_bytes` of the log; returns how many entries it took (indexer thread, and
  // open() before that thread exists).
  std::size_t index_some(std::size_t max_bytes);
  void run_indexer();

  std::unique_ptr<sqlite::ConnectionPool> pool_;
  std::unique_ptr<sqlite::Checkpointer> checkpointer_;
  std::mutex& write_mu_ = sqlite::shared_write_mutex();  // taken after a connection lease, held for
                                                         // the whole transaction
  std::unique_ptr<sqlite::GroupCommitter> committer_;    // its thread uses the members above
  std::unique_ptr<intake::Log> log_;

  // The indexer's progress.
  mutable std::mutex indexed_mu_;
  std::condition_variable indexed_cv_;  // indexed_ moved, or the indexer stopped
  intake::Position indexed_;            // guarded by indexed_mu_
  intake::Position read_from_;          // indexer thread only: the next entry to read
  bool indexer_running_ = false;        // guarded by indexed_mu_
  std::uint64_t backlog_bytes_ = 0;     // SqliteOptions::intake_backlog_bytes

  std::mutex listener_mu_;
  std::function<void()> listener_;  // guarded by listener_mu_

  base::WakeSignal appended_;  // the intake thread appended
  std::thread indexer_;
  std::unique_ptr<base::BatchCommitter<IntakeJob>> intake_;  // last: first to go
};

}  // namespace mailtally::storage
