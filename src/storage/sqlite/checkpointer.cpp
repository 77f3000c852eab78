#include "storage/sqlite/checkpointer.hpp"

#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/thread_name.hpp"
#include "storage/sqlite/db.hpp"

namespace mailtally::storage::sqlite {

Checkpointer::Checkpointer(std::unique_ptr<mailtally::sqlite::Connection> connection,
                           std::chrono::milliseconds interval)
    : connection_(std::move(connection)), interval_(interval) {
  thread_ = std::thread([this] { loop(); });
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Checkpointer::loop() {
  base::name_this_thread("checkpoint");
  base::lower_this_thread_priority();
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    int wal_frames = 0;
    int copied = 0;
    sqlite3_wal_checkpoint_v2(connection_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                              &wal_frames, &copied);
    lock.lock();
  }
}

}  // namespace mailtally::storage::sqlite
