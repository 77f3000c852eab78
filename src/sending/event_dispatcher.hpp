// Reads the event log in order and hands each event to every matching, enabled destination of
// its message's configuration set. CloudWatch destinations: domain::publish() turns the event
// into a datapoint (or a drop) and the MetricSink records it and advances that destination's
// cursor atomically (exactly once). SNS, Firehose and EventBridge destinations are served by
// destinations::ExternalDispatcher (own threads and cursors, so a failing endpoint holds up
// nothing here); Pinpoint destinations are not served (skipped; their cursors are not touched).
//
// Positions: the dispatcher's own read position is the cursor row ("", "") in event_cursors;
// it moves after every destination of a batch has been applied. After a crash the batch is
// read again and destinations whose cursor already covers an event skip it.
//
// Several nodes (DispatcherOptions::leases): only the holder of kCloudWatchLease dispatches.
//
// Threading: one dispatcher thread (start/stop from one controlling thread, notify from any).
// run_once() is for tests and must not run concurrently with the thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/event_sink.hpp"
#include "domain/lease.hpp"
#include "domain/sending_store.hpp"
#include "domain/store.hpp"
#include "sending/batch_loop.hpp"

namespace mailtally::sending {

struct DispatcherOptions {
  std::size_t batch = 512;
  std::chrono::milliseconds poll{100};
  std::chrono::milliseconds linger{10};  // coalescing wait after a partial batch (BatchLoop)
  bool background = true;                // lower CPU priority than request handling
  // Several nodes: the CloudWatch dispatch runs on the node holding lease kCloudWatchLease
  // (renewed every batch, released by stop()); others idle. Borrowed; null: one process.
  domain::LeaseStore* leases = nullptr;
  std::string node_id;
  double lease_seconds = 30;
};

// The lease name of the CloudWatch dispatch (one lease: the dispatcher reads the log once for
// every CloudWatch destination; each destination's cursor still moves in the same transaction
// as its datapoints, so a batch is never counted twice).
inline constexpr std::string_view kCloudWatchLease = "dispatch:cloudwatch";

class EventDispatcher {
 public:
  // All references must outlive the dispatcher.
  EventDispatcher(domain::SendingStore& store, domain::ConfigStore& config,
                  domain::MetricSink& sink, DispatcherOptions options = {});
  ~EventDispatcher();  // stop()
  EventDispatcher(const EventDispatcher&) = delete;
  EventDispatcher& operator=(const EventDispatcher&) = delete;

  void start();
  void notify();
  void stop();  // finishes the batch in flight, then joins
  // Dispatches one batch; returns the number of log events read. Throws what the sink throws.
  std::size_t run_once();

 private:
  domain::SendingStore& store_;
  domain::ConfigStore& config_;
  domain::MetricSink& sink_;
  DispatcherOptions options_;
  std::optional<std::int64_t> position_;  // dispatcher thread only
  BatchLoop loop_;                        // last: its thread uses the members above
};

}  // namespace mailtally::sending
