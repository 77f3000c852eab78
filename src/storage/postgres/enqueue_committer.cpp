#include "storage/postgres/enqueue_committer.hpp"

#include <future>
#include <utility>

#include "storage/postgres/sending_log.hpp"

namespace mailtally::storage::pg_sending {

EnqueueCommitter::EnqueueCommitter(pg::Pool& pool, std::size_t max_batch)
    : pool_(pool), max_batch_(max_batch == 0 ? 1 : max_batch) {
  thread_ = std::thread([this] { loop(); });
}

EnqueueCommitter::~EnqueueCommitter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EnqueueCommitter::submit(Job job) {
  {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(job));
  }
  cv_.notify_one();
}

std::int64_t EnqueueCommitter::run(const domain::QueuedMessage& message,
                                   const std::vector<domain::NewEvent>& events, double now) {
  std::promise<std::int64_t> committed;
  auto result = committed.get_future();
  submit(Job{&message, &events, now,
             [&committed](std::int64_t id, std::exception_ptr error) {
               if (error) {
                 committed.set_exception(error);
               } else {
                 committed.set_value(id);
               }
             },
             nullptr});
  return result.get();
}

std::uint64_t EnqueueCommitter::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

void EnqueueCommitter::loop() {
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

std::vector<std::int64_t> EnqueueCommitter::apply(Job* first, Job* last) {
  return pool_.with_transaction([&](pg::Connection& conn) {
    std::vector<MessageRow> messages;
    messages.reserve(static_cast<std::size_t>(last - first));
    for (Job* j = first; j != last; ++j) messages.push_back(MessageRow{j->message, j->now});
    auto ids = insert_messages(conn, messages);
    std::vector<EventRow> rows;
    for (Job* j = first; j != last; ++j) {
      for (const auto& e : *j->events) {
        rows.push_back(EventRow{j->message->message_id, j->message->configuration_set, &e, j->now});
      }
    }
    append_events(conn, rows);
    return ids;
  });
}

namespace {

void finish(EnqueueCommitter::Job& job, std::int64_t id, std::exception_ptr error) {
  try {
    job.done(id, error);
  } catch (...) {
    // A callback must not take the committer down; its caller already got what it could.
  }
}

}  // namespace

void EnqueueCommitter::commit(std::vector<Job>& batch) {
  std::exception_ptr batch_error;
  std::vector<std::int64_t> ids;
  try {
    ids = apply(batch.data(), batch.data() + batch.size());
  } catch (...) {
    batch_error = std::current_exception();
  }
  if (!batch_error) {
    {
      std::lock_guard lock(mu_);
      ++batches_;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) finish(batch[i], ids[i], nullptr);
    return;
  }
  // Find the job(s) at fault: each alone.
  for (auto& j : batch) {
    std::exception_ptr error = batch.size() == 1 ? batch_error : nullptr;
    std::int64_t id = 0;
    if (!error) {
      try {
        id = apply(&j, &j + 1).at(0);
        std::lock_guard lock(mu_);
        ++batches_;
      } catch (...) {
        error = std::current_exception();
      }
    }
    finish(j, error ? 0 : id, error);
  }
}

}  // namespace mailtally::storage::pg_sending
