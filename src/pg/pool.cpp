#include "pg/pool.hpp"

#include <algorithm>

namespace mailtally::pg {

Pool::Pool(std::string conninfo, PoolOptions options)
    : conninfo_(std::move(conninfo)), options_(options) {
  auto first = std::make_unique<Connection>(conninfo_);
  idle_.push_back(std::move(first));
  open_ = 1;
}

Pool::~Pool() = default;

Pool::Lease Pool::acquire() {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + options_.wait;
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(conn));
    }
    if (open_ < std::max<std::size_t>(options_.max_size, 1)) {
      ++open_;
      lock.unlock();
      try {
        return Lease(*this, std::make_unique<Connection>(conninfo_));
      } catch (...) {
        lock.lock();
        --open_;
        cv_.notify_one();
        throw;
      }
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= std::max<std::size_t>(options_.max_size, 1)) {
      throw Error("postgres: no connection free in the pool within the wait time", "");
    }
  }
}

void Pool::release(std::unique_ptr<Connection> conn) {
  bool keep = conn->healthy() && !conn->in_transaction();
  if (!keep) conn.reset();  // closes outside the lock would be nicer; it is rare
  std::lock_guard lock(mu_);
  if (keep) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  cv_.notify_one();
}

std::size_t Pool::open_connections() const {
  std::lock_guard lock(mu_);
  return open_;
}

void migrate(Pool& pool, std::string_view component, const std::vector<const char*>& steps) {
  pool.with_transaction([&](Connection& conn) {
    // One lock key for every component: migrations are rare and short.
    conn.exec("SELECT pg_advisory_xact_lock(7220000001)");
    conn.exec(
        "CREATE TABLE IF NOT EXISTS mailtally_schema ("
        " component TEXT PRIMARY KEY, version INTEGER NOT NULL)");
    auto r = conn.query("SELECT version FROM mailtally_schema WHERE component = $1", {component});
    std::int64_t version = r.empty() ? 0 : r.integer(0, 0);
    if (version > static_cast<std::int64_t>(steps.size())) {
      throw Error("postgres: the database has schema version " + std::to_string(version) + " of '" +
                      std::string(component) + "', newer than this build knows; refusing to use it",
                  "");
    }
    for (auto v = static_cast<std::size_t>(version); v < steps.size(); ++v) {
      conn.exec(steps[v]);
    }
    conn.run(
        "INSERT INTO mailtally_schema (component, version) VALUES ($1, $2) "
        "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
        {component, static_cast<std::int64_t>(steps.size())});
  });
}

}  // namespace mailtally::pg
