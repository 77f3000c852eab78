// A bounded pool of PostgreSQL connections for one node (the "bounded pool per node").
//
// acquire() hands out an idle connection, opens a new one while fewer than `max_size` exist,
// or waits (up to `wait`) for one to come back; a connection returned broken (the server went
// away) or inside a transaction is dropped, so the next borrower gets a fresh one.
//
// with_transaction(fn) is the usual way to write: it runs fn(conn) inside BEGIN ... COMMIT and
// runs it again (a bounded number of times) when PostgreSQL reports a serialization failure or
// deadlock (nothing of the failed attempt was committed). fn must therefore be repeatable: only
// database work, no effects outside it. A lost connection is not retried (whether COMMIT
// reached the server is unknown); it throws.
//
// Threading: every method may be called from any thread at once. The pool must outlive every
// Lease.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "pg/connection.hpp"

namespace mailtally::pg {

struct PoolOptions {
  std::size_t max_size = 8;
  std::chrono::milliseconds wait{10'000};  // acquire() gives up (throws Error) after this
};

class Pool {
 public:
  // Connects once at construction to check `conninfo` (throws Error when it cannot).
  explicit Pool(std::string conninfo, PoolOptions options = {});
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<Connection> conn) : pool_(&pool), conn_(std::move(conn)) {}
    ~Lease() {
      if (conn_) pool_->release(std::move(conn_));
    }
    Lease(Lease&& other) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  Lease acquire();

  // See the header comment. `begin` is the BEGIN statement (e.g. with an isolation level).
  template <typename Fn>
  auto with_transaction(Fn&& fn, const char* begin = "BEGIN") {
    for (int attempt = 1;; ++attempt) {
      auto conn = acquire();
      try {
        Transaction tx(*conn, begin);
        if constexpr (std::is_void_v<decltype(fn(*conn))>) {
          fn(*conn);
          tx.commit();
          return;
        } else {
          auto result = fn(*conn);
          tx.commit();
          return result;
        }
      } catch (const Error& e) {
        if (attempt >= kMaxAttempts || !e.retryable()) throw;
      }
    }
  }

  // Runs fn(conn) outside any explicit transaction (autocommit reads).
  template <typename Fn>
  auto with_connection(Fn&& fn) {
    auto conn = acquire();
    return fn(*conn);
  }

  const std::string& conninfo() const { return conninfo_; }
  std::size_t open_connections() const;

 private:
  static constexpr int kMaxAttempts = 5;
  void release(std::unique_ptr<Connection> conn);

  const std::string conninfo_;
  const PoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // idle + lent
};

// Schema migrations of one component (e.g. "config", "sending", "metrics"): `steps[i]` brings the
// component from version i to i + 1. Versions live in the table mailtally_schema (component,
// version). Runs under a transaction-level advisory lock, so nodes starting together migrate
// once. Throws Error when the database holds a newer version than `steps` knows.
void migrate(Pool& pool, std::string_view component, const std::vector<const char*>& steps);

}  // namespace mailtally::pg
