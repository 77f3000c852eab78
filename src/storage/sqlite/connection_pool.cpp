#include "storage/sqlite/connection_pool.hpp"

#include <algorithm>

namespace mailtally::storage::sqlite {

ConnectionPool::ConnectionPool(Factory factory, std::size_t max_size)
    : factory_(std::move(factory)), max_size_(std::max<std::size_t>(max_size, 1)) {}

ConnectionPool::Lease ConnectionPool::acquire() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty() || open_ < max_size_; });
    if (!free_.empty()) {
      std::unique_ptr<Connection> conn = std::move(free_.back());
      free_.pop_back();
      return Lease(*this, std::move(conn));
    }
    ++open_;  // reserve the slot, then open outside the lock
  }
  try {
    return Lease(*this, factory_());
  } catch (...) {
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
    throw;
  }
}

void ConnectionPool::adopt(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(mu_);
  ++open_;
  free_.push_back(std::move(conn));
  cv_.notify_one();
}

void ConnectionPool::release(std::unique_ptr<Connection> conn) {
  std::unique_ptr<Connection> discard;
  {
    std::lock_guard lock(mu_);
    if (conn->idle()) {
      free_.push_back(std::move(conn));
    } else {
      discard = std::move(conn);  // closed below, outside the lock (close rolls back)
      --open_;
    }
  }
  cv_.notify_one();
}

std::mutex& shared_write_mutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace mailtally::storage::sqlite
