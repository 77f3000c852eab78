// Injected time source: rules never call now() themselves, so time windows are testable.
#pragma once

#include <atomic>
#include <chrono>

namespace mailtally::base {

using TimePoint = std::chrono::system_clock::time_point;

// Thread-safe; implementations must be callable from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// A clock tests move by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint t) : t_(t.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(t_.load())); }
  void set(TimePoint t) { t_ = t.time_since_epoch().count(); }
  void advance(std::chrono::nanoseconds d) {
    t_ += std::chrono::duration_cast<TimePoint::duration>(d).count();
  }

 private:
  std::atomic<TimePoint::rep> t_;
};

}  // namespace mailtally::base
