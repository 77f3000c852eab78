// Moves WAL checkpoints off the commit path: a background thread with its own connection runs
// a PASSIVE checkpoint every `interval` (copying committed WAL pages into the database file
// without blocking readers or writers), so writers' commits never do that copy themselves.
// Connections keep a high wal_autocheckpoint (configure_connection) only as a backstop.
//
// Threading: owns one thread, at a lower CPU priority (base::lower_this_thread_priority); the
// destructor stops and joins it. Checkpoint failures (e.g. SQLITE_BUSY) are ignored: the next round
// retries.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace mailtally::sqlite {
class Connection;
}  // namespace mailtally::sqlite

namespace mailtally::storage::sqlite {

class Checkpointer {
 public:
  // `connection` is the checkpointer's own (owned) connection to the database.
  Checkpointer(std::unique_ptr<mailtally::sqlite::Connection> connection,
               std::chrono::milliseconds interval = std::chrono::milliseconds(200));
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  void loop();

  std::unique_ptr<mailtally::sqlite::Connection> connection_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;     // last
};

}  // namespace mailtally::storage::sqlite
