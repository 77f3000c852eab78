// Runs MetricStore::compact() on a background thread at a fixed interval, as the server must
// (packing keeps long reads fast; retention drops expired data).
//
// Threading: start() and stop() from one owning thread; stop() (also run by the destructor)
// wakes the thread and joins it. A failing compaction is reported through `on_error` (default:
// a line on stderr) and retried at the next interval. The store and clock must outlive it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "base/clock.hpp"
#include "metrics/metric_store.hpp"

namespace mailtally::metrics {

class Compactor {
 public:
  using ErrorHandler = std::function<void(const std::string&)>;

  Compactor(MetricStore& store, const base::Clock& clock,
            std::chrono::milliseconds interval = std::chrono::seconds(60),
            ErrorHandler on_error = {});
  ~Compactor();
  Compactor(const Compactor&) = delete;
  Compactor& operator=(const Compactor&) = delete;

  void start();
  void stop();
  // Completed compaction runs (for tests and diagnostics).
  std::uint64_t runs() const;

 private:
  void loop();

  MetricStore& store_;
  const base::Clock& clock_;
  const std::chrono::milliseconds interval_;
  ErrorHandler on_error_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;   // guarded by mu_
  std::uint64_t runs_ = 0;  // guarded by mu_
  std::thread thread_;
};

}  // namespace mailtally::metrics
