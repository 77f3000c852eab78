#include "storage/sqlite/group_commit.hpp"

#include <future>
#include <utility>

#include "storage/sqlite/db.hpp"

namespace mailtally::storage::sqlite {

GroupCommitter::GroupCommitter(Begin begin, std::size_t max_batch, bool background)
    : begin_(std::move(begin)),
      committer_(
          [this](Job* first, Job* last) {
            Lease lease = begin_();
            mailtally::sqlite::Transaction tx(*lease.connection);
            for (Job* j = first; j != last; ++j) j->write(*lease.connection);
            tx.commit();
          },
          [](Job& job, std::exception_ptr error) { job.done(error); }, max_batch, "commit",
          background) {}

GroupCommitter::~GroupCommitter() = default;

void GroupCommitter::submit(Write write, Done done) {
  committer_.submit(Job{std::move(write), std::move(done)});
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

std::uint64_t GroupCommitter::batches() const { return committer_.batches(); }

}  // namespace mailtally::storage::sqlite
