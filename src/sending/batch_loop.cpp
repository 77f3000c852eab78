#include "sending/batch_loop.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <exception>

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
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  for (std::size_t i = 0; i < threads_count_; ++i) threads_.emplace_back([this, i] { run(i); });
}

void BatchLoop::notify() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

void BatchLoop::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void BatchLoop::run(std::size_t index) {
  // Linux: a thread's nice value is per thread (best effort: an error leaves the priority).
  if (background_) ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 5);
  for (;;) {
    std::uint64_t seen;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      seen = generation_;
    }
    std::size_t got = 0;
    bool failed = false;
    try {
      got = step_(index);
    } catch (const std::exception& e) {
      failed = true;
      std::fprintf(stderr, "mailtally: %s %zu: %s (will retry)\n", name_.c_str(), index, e.what());
    }
    if (!failed && got >= batch_) continue;  // more may be waiting
    std::unique_lock lock(mu_);
    if (!failed && got > 0 && linger_.count() > 0) {
      cv_.wait_for(lock, linger_, [&] { return stopping_; });
      continue;
    }
    cv_.wait_for(lock, failed ? poll_ * 10 : poll_,
                 [&] { return stopping_ || (!failed && generation_ != seen); });
  }
}

}  // namespace mailtally::sending
