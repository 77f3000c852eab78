// A wake-up signal from a hot path to background loops: "there may be new work".
//
// notify() is called on every send, so it must cost nothing when no loop is asleep: it bumps a
// generation counter and takes the lock and wakes sleepers only when one is waiting for that
// counter. A loop reads generation() before it looks for work and then waits for a change:
// a notify() between the two is never lost (the counter moved, so the wait returns at once).
//
// Threading: every member from any thread. stop() wakes every waiter; later waits return false
// at once until restart().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace mailtally::base {

class WakeSignal {
 public:
  void notify() {
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) == 0) return;
    // A sleeper counted itself before reading the generation, so it either sees the new value
    // or is already waiting; taking the lock orders this wake after its wait began.
    { std::lock_guard lock(mu_); }
    cv_.notify_all();
  }

  std::uint64_t generation() const { return generation_.load(std::memory_order_seq_cst); }

  // Waits until the generation differs from `seen`, stop(), or `timeout`; false once stopped.
  bool wait_for(std::uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    cv_.wait_for(lock, timeout, [&] { return stopping_ || generation() != seen; });
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
    return !stopping_;
  }

  // Waits `d` unless stopped (notify() does not end it); false once stopped.
  bool sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return !stop_cv_.wait_for(lock, d, [&] { return stopping_; });
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    stop_cv_.notify_all();
  }
  void restart() {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  bool stopping() const {
    std::lock_guard lock(mu_);
    return stopping_;
  }

 private:
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<unsigned> sleepers_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;       // generation changes and stop
  std::condition_variable stop_cv_;  // stop only
  bool stopping_ = false;            // guarded by mu_
};

}  // namespace mailtally::base
