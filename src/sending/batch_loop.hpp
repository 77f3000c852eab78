// A background loop that drains work in batches: each of `threads` threads calls `step(i)`
// again at once while it returns a full batch, and otherwise sleeps until notify() or `poll`
// passes (notify() is cheap while the loop is busy: see base::WakeSignal). A step that throws is
// logged to stderr with `name` and retried after 10 × `poll`.
//
// Threading: start() and stop() from one owning thread; notify() from any thread. stop() lets
// the step in flight finish, then joins. The destructor stops.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "base/wake_signal.hpp"

namespace mailtally::sending {

class BatchLoop {
 public:
  // `step(thread index)` returns how many items it handled; `batch` is a full batch.
  using Step = std::function<std::size_t(std::size_t)>;

  BatchLoop(std::string name, std::size_t threads, std::size_t batch,
            std::chrono::milliseconds poll, Step step);
  ~BatchLoop();
  BatchLoop(const BatchLoop&) = delete;
  BatchLoop& operator=(const BatchLoop&) = delete;

  // Before start(): after a batch that was not full, wait `linger` (even when notified) so
  // that work arriving meanwhile is taken as one larger batch — fewer transactions under load,
  // at most `linger` more latency. Zero (the default) steps again at once when notified.
  void set_linger(std::chrono::milliseconds linger) { linger_ = linger; }
  // Before start(): run the threads at a lower CPU priority (base::lower_this_thread_priority), so
  // request handling wins when both want the CPU and background work catches up when it is free.
  void set_background(bool background) { background_ = background; }

  void start();
  void notify();
  void stop();

 private:
  void run(std::size_t index);

  const std::string name_;
  const std::size_t threads_count_;
  const std::size_t batch_;
  const std::chrono::milliseconds poll_;
  const Step step_;
  std::chrono::milliseconds linger_{0};
  bool background_ = false;
  std::vector<std::thread> threads_;
  base::WakeSignal signal_;  // notify() and stop()
};

}  // namespace mailtally::sending
