// The PostgreSQL SendingStore (domain/sending_store.hpp): the message queue, the event log, the
// built-in mailbox, server secrets and event cursors, shared by every node on the database.
// Schema component "sending" (tables messages, events, event_log_head, mailbox, event_cursors,
// server_secrets). Behaves as SqliteSendingStore, and stays correct with several nodes:
//
// * Event seq in COMMIT order. Readers follow the log with "seq > cursor", so no event may
//   become visible with a seq lower than one already visible. A plain sequence does not give
//   that (T1 takes 5, T2 takes 6, T2 commits first: a reader at 6 never sees 5). Every
//   transaction that appends events therefore does so LAST, by updating the one row of
//   `event_log_head` (last_seq += n, RETURNING the block) and inserting its events with those
//   seqs, then commits at once. The row lock of that UPDATE is held until COMMIT, and PostgreSQL
//   makes a transaction visible before it releases its locks, so the next appender (any node)
//   gets a higher block only after the lower one is visible. Cost: event-appending transactions
//   of the whole cluster are serialized from that statement (one statement takes the lock,
//   the seq block and inserts the rows) to the end of their COMMIT (one more round trip and the
//   commit's WAL flush): at most ~1/(round trip + commit latency) appending transactions per
//   second cluster-wide, whatever the number of nodes. Group commit (many enqueues per
//   transaction) and one transaction per complete() batch keep the events per transaction
//   high. Everything else a transaction does (message rows, mailbox, suppression, `make` of
//   append_message_events) happens before the lock. Seqs of a rolled-back transaction are not
//   reused (gaps are fine: readers never wait for a missing seq).
// * Queue claims with leases: claim() hands due, unleased queued messages to one owner with
//   `FOR UPDATE SKIP LOCKED` and sets lease_owner/lease_until; a message is claimable again
//   once `now` >= lease_until (its node died), and never handed twice while the lease runs,
//   not even to the same owner. release_claims() scans the queued rows (partial index), no
//   index on the owner: it runs once per graceful stop. The `shard`/`shards` arguments of claim()
//   are ignored: leases already split the work between nodes and threads. The lease is NOT checked
//   by complete(): a completion applies while its message is queued, whoever holds the lease
//   (at-least-once delivery, exactly-once effects), and clears the lease.
// * Enqueues (enqueue and enqueue_async) go through one group-commit thread per store, which
//   puts every enqueue waiting at that moment into one transaction (messages first, events
//   last as above); a failed batch is retried job by job so one bad message fails only itself.
//   A connection lost during COMMIT leaves the outcome unknown: the retry of a message that was
//   in fact committed then fails with a unique violation (reported as a failed enqueue).
// * server_secret: INSERT ... ON CONFLICT DO NOTHING, then read: the first writer of any node
//   wins. advance_cursor: an upsert with GREATEST (never backward, whoever writes).
// * Suppression entries of a completion are written through the `put_suppressed` callback given
//   to open() (the configuration adapter owns table suppressed_destinations), in complete()'s
//   transaction. Without a callback, a completion that carries suppression entries throws.
//
// Times are the callers' clocks (epoch seconds, DOUBLE PRECISION): nodes' clocks must agree to
// well within a lease's length. Raw messages are BYTEA, JSON is TEXT.
//
// Threading: every method may be called from any thread at once; each call borrows pooled
// connections. The pool is borrowed and must outlive the store. Durability: committed before
// the call returns (enqueue_async: before `done` runs). Database failures throw pg::Error (a
// std::runtime_error).
#pragma once

#include <functional>
#include <limits>
#include <memory>

#include "domain/sending_store.hpp"
#include "pg/pool.hpp"

namespace mailtally::storage {

namespace pg_sending {
class EnqueueCommitter;
}  // namespace pg_sending

class PgSendingStore final : public domain::SendingStore {
 public:
  // Writes one suppression-list entry (insert or replace, case-insensitive address) through
  // `conn`, inside the caller's open transaction; throws to roll it back.
  using PutSuppressed =
      std::function<void(pg::Connection& conn, const domain::SuppressedDestination& entry)>;

  // Migrates the "sending" schema component. Throws pg::Error.
  static std::unique_ptr<PgSendingStore> open(pg::Pool& pool, PutSuppressed put_suppressed = {});
  ~PgSendingStore() override;  // commits every enqueue already submitted, then returns
  PgSendingStore(const PgSendingStore&) = delete;
  PgSendingStore& operator=(const PgSendingStore&) = delete;

  std::int64_t enqueue(const domain::QueuedMessage& message,
                       const std::vector<domain::NewEvent>& events, double now) override;
  void enqueue_async(domain::QueuedMessage message, std::vector<domain::NewEvent> events,
                     double now, EnqueueDone done) override;
  // Enqueue transactions committed so far by this store (each holds one or more messages).
  std::uint64_t enqueue_batches() const;

  std::vector<domain::QueuedMessage> queued(
      std::int64_t after_id, std::size_t limit, std::size_t shard, std::size_t shards,
      double due_by = std::numeric_limits<double>::infinity()) override;
  std::vector<domain::QueuedMessage> claim(std::string_view owner, std::size_t limit,
                                           std::size_t shard, std::size_t shards, double now,
                                           double lease_seconds) override;
  void release_claims(std::string_view owner) override;
  std::size_t complete(const std::vector<Completion>& completions, double now) override;

  std::vector<domain::LoggedEvent> events(const domain::EventFilter& filter) override;
  std::vector<domain::MailboxEntry> mailbox(std::optional<std::string> recipient,
                                            std::size_t limit) override;
  std::optional<domain::MailboxEntry> mailbox_message(std::string_view message_id) override;
  std::size_t queue_depth() override;
  std::optional<std::string> raw_message(std::string_view message_id) override;

  bool append_message_events(std::string_view message_id, const MakeEvents& make,
                             double now) override;
  std::string server_secret(std::string_view name, std::string_view candidate) override;

  std::optional<std::int64_t> cursor(std::string_view configuration_set,
                                     std::string_view destination) override;
  void advance_cursor(std::string_view configuration_set, std::string_view destination,
                      std::int64_t seq) override;

 private:
  PgSendingStore(pg::Pool& pool, PutSuppressed put_suppressed);

  pg::Pool& pool_;
  PutSuppressed put_suppressed_;
  std::unique_ptr<pg_sending::EnqueueCommitter> committer_;  // last: its thread uses pool_
};

}  // namespace mailtally::storage
