// Group commit: many writers' small changes applied in one database transaction, for any
// storage backend (storage/sqlite/group_commit.*, storage/postgres/enqueue_committer.*).
//
// Jobs submitted while a batch commits form the next batch (at most `max_batch` jobs), so under
// load one commit covers many writers, and with a single writer a job waits for nothing but its
// own commit. `apply(first, last)` writes jobs [first, last) in ONE transaction and commits it,
// or throws (nothing committed); it may store per-job results in the jobs. `settle(job, error)`
// then gives each job its outcome: error is null once its transaction committed.
//
// Failure isolation: when a batch fails, each of its jobs is applied again alone, so one bad job
// fails only itself.
//
// Threading: submit() from any thread. One committer thread (owned) runs every apply and settle;
// settle must be short and must not submit and wait. The destructor commits every job already
// submitted, then joins. A settle that throws is ignored (its caller got what it could).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/thread_name.hpp"

namespace mailtally::base {

template <typename Job>
class BatchCommitter {
 public:
  using Apply = std::function<void(Job* first, Job* last)>;
  using Settle = std::function<void(Job& job, std::exception_ptr error)>;

  // `name`: the committer thread's name (base::name_this_thread). `background`: the thread
  // runs at a lower CPU priority (base::lower_this_thread_priority) than request handling.
  BatchCommitter(Apply apply, Settle settle, std::size_t max_batch,
                 std::string_view name = "commit", bool background = false)
      : apply_(std::move(apply)),
        settle_(std::move(settle)),
        max_batch_(max_batch == 0 ? 1 : max_batch) {
    thread_ = std::thread([this, name = std::string(name), background] {
      name_this_thread(name);
      if (background) lower_this_thread_priority();
      loop();
    });
  }
  ~BatchCommitter() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  BatchCommitter(const BatchCommitter&) = delete;
  BatchCommitter& operator=(const BatchCommitter&) = delete;

  void submit(Job job) {
    {
      std::lock_guard lock(mu_);
      pending_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

  // Transactions committed (for tests and measurements).
  std::uint64_t batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }

 private:
  void loop() {
    std::vector<Job> batch;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
        if (pending_.empty()) return;  // stopping, and everything submitted is committed
        if (pending_.size() <= max_batch_) {
          batch.swap(pending_);
        } else {
          auto first = pending_.begin();
          auto last = first + static_cast<std::ptrdiff_t>(max_batch_);
          batch.assign(std::make_move_iterator(first), std::make_move_iterator(last));
          pending_.erase(first, last);
        }
      }
      commit(batch);
      batch.clear();
    }
  }

  // Applies [first, last); true when committed, else the failure in `error`.
  bool try_apply(Job* first, Job* last, std::exception_ptr& error) {
    try {
      apply_(first, last);
    } catch (...) {
      error = std::current_exception();
      return false;
    }
    std::lock_guard lock(mu_);
    ++batches_;
    return true;
  }

  void settle(Job& job, std::exception_ptr error) {
    try {
      settle_(job, error);
    } catch (...) {
    }
  }

  void commit(std::vector<Job>& batch) {
    std::exception_ptr batch_error;
    if (try_apply(batch.data(), batch.data() + batch.size(), batch_error)) {
      for (auto& j : batch) settle(j, nullptr);
      return;
    }
    // Find the job(s) at fault: each alone.
    for (auto& j : batch) {
      std::exception_ptr error = batch.size() == 1 ? batch_error : nullptr;
      if (!error) try_apply(&j, &j + 1, error);
      settle(j, error);
    }
  }

  const Apply apply_;
  const Settle settle_;
  const std::size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Job> pending_;   // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::uint64_t batches_ = 0;  // guarded by mu_
  std::thread thread_;         // last: started once the members above exist
};

}  // namespace mailtally::base
