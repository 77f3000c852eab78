// Internal to PgSendingStore: group commit of enqueues (batching by base::BatchCommitter). Every
// enqueue waiting when a batch starts goes into one PostgreSQL transaction: all message rows
// (multi-row INSERTs), then all their events through append_events() (last, under the event-log
// lock), then COMMIT. Under load one transaction (one commit flush, one turn of the cluster-wide
// event-log lock) covers many callers; a single caller waits only for its own commit.
//
// Failure isolation: when a batch fails, each of its jobs is retried alone in its own
// transaction, so one bad message (a duplicate message id) fails only itself. Serialization
// failures and deadlocks are retried by pg::Pool::with_transaction.
//
// Threading: submit()/run() from any thread. One committer thread (owned) runs every
// transaction and every `done` callback; callbacks must be short and must not wait for the
// committer. The destructor commits every job already submitted, then joins.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include "base/batch_committer.hpp"
#include "domain/sending_store.hpp"
#include "pg/pool.hpp"

namespace mailtally::storage::pg_sending {

class EnqueueCommitter {
 public:
  using Done = std::function<void(std::int64_t id, std::exception_ptr error)>;

  // One enqueue. `message` and `events` point either into `owned` (async) or into the caller's
  // objects, which then stay alive until `done` has run (run() waits for that).
  struct Job {
    const domain::QueuedMessage* message = nullptr;
    const std::vector<domain::NewEvent>* events = nullptr;
    double now = 0;
    Done done;
    std::shared_ptr<void> owned;
    std::int64_t id = 0;  // the queue id, once applied
  };

  // `pool` is borrowed and outlives the committer. `max_batch`: most messages per transaction.
  explicit EnqueueCommitter(pg::Pool& pool, std::size_t max_batch = 512);
  ~EnqueueCommitter();
  EnqueueCommitter(const EnqueueCommitter&) = delete;
  EnqueueCommitter& operator=(const EnqueueCommitter&) = delete;

  void submit(Job job);
  // Enqueues and waits for the commit; returns the queue id or rethrows the job's failure.
  std::int64_t run(const domain::QueuedMessage& message,
                   const std::vector<domain::NewEvent>& events, double now);

  std::uint64_t batches() const;  // transactions committed (for tests and measurements)

 private:
  // One transaction for jobs [first, last); stores their ids in the jobs.
  void apply(Job* first, Job* last);

  pg::Pool& pool_;
  base::BatchCommitter<Job> committer_;  // last: its thread uses pool_
};

}  // namespace mailtally::storage::pg_sending
