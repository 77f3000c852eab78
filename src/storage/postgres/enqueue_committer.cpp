#include "storage/postgres/enqueue_committer.hpp"

#include <future>
#include <utility>

#include "storage/postgres/sending_log.hpp"

namespace mailtally::storage::pg_sending {

EnqueueCommitter::EnqueueCommitter(pg::Pool& pool, std::size_t max_batch)
    : pool_(pool),
      committer_([this](Job* first, Job* last) { apply(first, last); },
                 [](Job& job, std::exception_ptr error) { job.done(error ? 0 : job.id, error); },
                 max_batch) {}

EnqueueCommitter::~EnqueueCommitter() = default;

void EnqueueCommitter::submit(Job job) { committer_.submit(std::move(job)); }

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

std::uint64_t EnqueueCommitter::batches() const { return committer_.batches(); }

void EnqueueCommitter::apply(Job* first, Job* last) {
  auto ids = pool_.with_transaction([&](pg::Connection& conn) {
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
  for (Job* j = first; j != last; ++j) j->id = ids.at(static_cast<std::size_t>(j - first));
}

}  // namespace mailtally::storage::pg_sending
