// Group commit: many writers' small changes applied in one SQLite transaction (the batching
// itself is base::BatchCommitter's).
//
// A job is a `write` step that runs inside the shared transaction and a `done` callback that
// runs once the transaction that holds the job has committed (error = nullptr) or failed (the
// exception). Jobs submitted while a batch commits form the next batch, so under load one
// commit (one set of WAL page writes, one lock round trip) covers many writers, and with a
// single writer a job waits for nothing but its own commit.
//
// Failure isolation: when a batch fails, each of its jobs is retried alone in its own
// transaction, so one bad job fails only itself.
//
// Threading: submit() from any thread. One committer thread (owned) runs every write and done
// callback; callbacks must be short and must not submit and wait. The destructor commits every
// job already submitted, then joins. `begin` runs on the committer thread before each
// transaction and returns the connection and lock it needs (see Lease below).
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include "base/batch_committer.hpp"

namespace mailtally::sqlite {
class Connection;
}  // namespace mailtally::sqlite

namespace mailtally::storage::sqlite {

class GroupCommitter {
 public:
  using Write = std::function<void(mailtally::sqlite::Connection&)>;
  using Done = std::function<void(std::exception_ptr error)>;

  // What a batch holds while it runs: the connection to write through, plus whatever the owner
  // must keep alive (a pool lease, a write lock) until the batch's transaction has ended.
  struct Lease {
    mailtally::sqlite::Connection* connection = nullptr;
    std::shared_ptr<void> hold;
  };
  using Begin = std::function<Lease()>;

  // `max_batch`: most jobs in one transaction.
  // `background`: the committer thread runs at a lower priority (base::lower_this_thread_priority).
  GroupCommitter(Begin begin, std::size_t max_batch = 1024, bool background = false);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  void submit(Write write, Done done);
  // submit() and wait for the commit; rethrows the job's failure.
  void run(Write write);

  std::uint64_t batches() const;  // transactions committed (for tests and benchmarks)

 private:
  struct Job {
    Write write;
    Done done;
  };
  Begin begin_;
  base::BatchCommitter<Job> committer_;  // last: its thread uses begin_
};

}  // namespace mailtally::storage::sqlite
