// A bounded pool of SQLite connections handed out one thread at a time.
//
// Threading: acquire() may be called from any thread; it returns a free connection (most
// recently used first, so its page and statement caches are warm), opens a new one while fewer
// than `max_size` exist, or else blocks until one is released. A Lease gives its holder
// exclusive use of the connection until the Lease is destroyed. Connections returned with a
// transaction still open (a failed ROLLBACK) are closed rather than reused.
//
// Ownership: the pool owns every connection; a Lease must not outlive the pool.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/sqlite/db.hpp"

namespace mailtally::storage::sqlite {

// The write mutex every store of this process takes around its write transactions. The stores
// (configuration, sending, templates, destinations) share one database file; with a mutex each
// they would meet at SQLite's write lock instead, whose busy handler waits by sleeping (up to
// 100 ms at a time) — a tail latency for every send behind it. One mutex keeps their writers in
// line in memory. (Unit tests with several temporary databases only serialize a little more.)
std::mutex& shared_write_mutex();

class ConnectionPool {
 public:
  using Factory = std::function<std::unique_ptr<Connection>()>;

  // `factory` opens and configures one connection; it is called without the pool lock held and
  // may throw (the failure propagates out of acquire()).
  ConnectionPool(Factory factory, std::size_t max_size);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Connection> conn)
        : pool_(&pool), conn_(std::move(conn)) {}
    ~Lease() { pool_->release(std::move(conn_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  Lease acquire();
  // Adds a connection the caller opened itself (e.g. the one used for migrations) as free.
  void adopt(std::unique_ptr<Connection> conn);

 private:
  void release(std::unique_ptr<Connection> conn);

  Factory factory_;
  const std::size_t max_size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> free_;  // guarded by mu_
  std::size_t open_ = 0;                           // guarded by mu_; leased + free
};

}  // namespace mailtally::storage::sqlite
