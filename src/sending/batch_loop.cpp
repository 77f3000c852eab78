#include "sending/batch_loop.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <exception>

#include "base/thread_name.hpp"

namespace mailtally::sending {

BatchLoop::BatchLoop(std::string name, std::size_t threads, std::size_t batch,
                     std::chrono::milliseconds poll, Step step)
    : name_(std::move(name)),
      threads_count_(threads == 0 ? 1 : threads),
      batch_(batch == 0 ? 1 : batch),
      poll_(poll),
      step_(std::move(step)) {}

BatchLoop::~BatchLoop() { stop(); }

void BatchLoop::start() {
  signal_.restart();
  for (std::size_t i = 0; i < threads_count_; ++i) threads_.emplace_back([this, i] { run(i); });
}

void BatchLoop::notify() { signal_.notify(); }

void BatchLoop::stop() {
  signal_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void BatchLoop::run(std::size_t index) {
  base::name_this_thread(name_);
  // Linux: a thread's nice value is per thread (best effort: an error leaves the priority).
  if (background_) base::lower_this_thread_priority();
  for (;;) {
    const std::uint64_t seen = signal_.generation();
    if (signal_.stopping()) return;
    std::size_t got = 0;
    bool failed = false;
    try {
      got = step_(index);
    } catch (const std::exception& e) {
      failed = true;
      std::fprintf(stderr, "mailtally: %s %zu: %s (will retry)\n", name_.c_str(), index, e.what());
    }
    if (!failed && got >= batch_) continue;  // more may be waiting
    if (!failed && got > 0 && linger_.count() > 0) {
      // Notifications do not end the linger: that is what lets work gather into one batch.
      if (!signal_.sleep_for(linger_)) return;
      continue;
    }
    if (failed) {
      if (!signal_.sleep_for(poll_ * 10)) return;
    } else if (!signal_.wait_for(seen, poll_)) {
      return;
    }
  }
}

}  // namespace mailtally::sending
