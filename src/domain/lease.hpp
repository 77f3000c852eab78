// Leases: which node of several does a singleton job (dispatching one event destination,
// folding statistics) right now. A lease has a name, an owner (a node id) and an end time; the
// owner renews it by acquiring it again before it ends. When a node dies its leases end on
// their own and another node takes the job over.
//
// Adapters: storage/postgres (table leases, shared by every node); LocalLeases below for one
// process (the embedded SQLite mode), where every lease is granted to whoever asks, because
// exactly one process uses the data dir.
//
// Threading: every method may be called from any thread at once. Times are epoch seconds.
#pragma once

#include <string_view>

namespace mailtally::domain {

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  // true when, after the call, `owner` holds lease `name` until `now + ttl_seconds`: it was
  // free, had ended, or was already `owner`'s (then renewed). false while another owner holds it.
  virtual bool try_acquire(std::string_view name, std::string_view owner, double now,
                           double ttl_seconds) = 0;
  // Ends `owner`'s lease `name` now (nothing when another owner holds it).
  virtual void release(std::string_view name, std::string_view owner) = 0;
};

// One process: every lease is granted (see the header comment).
class LocalLeases final : public LeaseStore {
 public:
  bool try_acquire(std::string_view, std::string_view, double, double) override { return true; }
  void release(std::string_view, std::string_view) override {}
};

}  // namespace mailtally::domain
