// Delivery of queued messages: the outcome of each recipient (mailbox simulator or built-in
// mailbox, EICAR reject) as a pure plan, and the worker threads that apply plans.
//
// Threading: DeliveryWorker owns its threads. start()/stop() from one controlling thread;
// notify() from any thread. stop() lets every in-flight batch finish (its transaction commits)
// and joins. A message is applied at most once: its state change and events are one
// transaction (SendingStore::complete), and a restart resumes every message still queued.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "base/clock.hpp"
#include "domain/sending_store.hpp"
#include "sending/batch_loop.hpp"

namespace mailtally::sending {

// What happens to one message delivered at `now` (epoch seconds). `reporting_mta` is this
// server's host name.
domain::SendingStore::Completion plan_delivery(const domain::QueuedMessage& message, double now,
                                               const std::string& reporting_mta);

struct DeliveryOptions {
  std::size_t threads = 1;               // shards: worker i takes queue ids with id % threads == i
  std::size_t batch = 256;               // messages per transaction
  std::chrono::milliseconds poll{250};   // re-check interval without notify()
  std::chrono::milliseconds linger{10};  // coalescing wait after a partial batch (BatchLoop)
  bool background = true;                // lower CPU priority than request handling
  std::string reporting_mta;             // default: gethostname()
  std::function<void()> on_applied;      // after each committed batch (wake the dispatcher)
};

class DeliveryWorker {
 public:
  // `store` and `clock` must outlive the worker.
  DeliveryWorker(domain::SendingStore& store, const base::Clock& clock, DeliveryOptions options);
  ~DeliveryWorker();  // stop()
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  void start();
  void notify();
  void stop();
  // Processes one batch of shard `shard` on the calling thread; returns messages applied.
  // For tests and for draining without threads.
  std::size_t run_once(std::size_t shard = 0, std::size_t shards = 1);

  std::uint64_t delivered() const { return applied_.load(); }

 private:
  domain::SendingStore& store_;
  const base::Clock& clock_;
  DeliveryOptions options_;
  std::atomic<std::uint64_t> applied_{0};
  BatchLoop loop_;  // last: its threads use the members above
};

std::string local_host_name();

}  // namespace mailtally::sending
