#include "metrics/compactor.hpp"
#include "base/thread_name.hpp"

#include <cstdio>
#include <exception>

namespace mailtally::metrics {

Compactor::Compactor(MetricStore& store, const base::Clock& clock,
                     std::chrono::milliseconds interval, ErrorHandler on_error)
    : store_(store), clock_(clock), interval_(interval), on_error_(std::move(on_error)) {
  if (!on_error_) {
    on_error_ = [](const std::string& what) {
      std::fprintf(stderr, "mailtally: metrics compaction failed: %s\n", what.c_str());
    };
  }
}

Compactor::~Compactor() { stop(); }

void Compactor::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { loop(); });
}

void Compactor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t Compactor::runs() const {
  std::lock_guard lock(mu_);
  return runs_;
}

void Compactor::loop() {
  base::name_this_thread("compactor");
  base::lower_this_thread_priority();
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    }
    try {
      auto now =
          std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
      store_.compact(now);
    } catch (const std::exception& e) {
      on_error_(e.what());
    }
    std::lock_guard lock(mu_);
    ++runs_;
  }
}

}  // namespace mailtally::metrics
