#include "storage/sqlite/group_commit.hpp"

#include <future>
#include <utility>

#include "storage/sqlite/db.hpp"

namespace mailtally::storage::sqlite {

GroupCommitter::GroupCommitter(Begin begin, std::size_t max_batch)
    : begin_(std::move(begin)), max_batch_(max_batch == 0 ? 1 : max_batch) {
  thread_ = std::thread([this] { loop(); });
}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void GroupCommitter::submit(Write write, Done done) {
  {
    std::lock_guard lock(mu_);
    pending_.push_back(Job{std::move(write), std::move(done)});
  }
  cv_.notify_one();
}

void GroupCommitter::run(Write write) {
  std::promise<void> committed;
  auto result = committed.get_future();
  submit(std::move(write), [&committed](std::exception_ptr error) {
    if (error) {
      committed.set_exception(error);
    } else {
      committed.set_value();
    }
  });
  result.get();
}

std::uint64_t GroupCommitter::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

void GroupCommitter::loop() {
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

void GroupCommitter::finish(Job& job, std::exception_ptr error) {
  try {
    job.done(error);
  } catch (...) {
    // A callback must not take the committer down; its caller already got what it could.
  }
}

void GroupCommitter::commit(std::vector<Job>& batch) {
  auto apply = [this](Job* first, Job* last) {
    Lease lease = begin_();
    mailtally::sqlite::Transaction tx(*lease.connection);
    for (Job* j = first; j != last; ++j) j->write(*lease.connection);
    tx.commit();
  };
  std::exception_ptr batch_error;
  try {
    apply(batch.data(), batch.data() + batch.size());
  } catch (...) {
    batch_error = std::current_exception();
  }
  if (!batch_error) {
    {
      std::lock_guard lock(mu_);
      ++batches_;
    }
    for (auto& j : batch) finish(j, nullptr);
    return;
  }
  // Find the job(s) at fault: each alone.
  for (auto& j : batch) {
    std::exception_ptr error;
    if (batch.size() == 1) {
      error = batch_error;
    } else {
      try {
        apply(&j, &j + 1);
      } catch (...) {
        error = std::current_exception();
      }
    }
    finish(j, error);
  }
}

}  // namespace mailtally::storage::sqlite
