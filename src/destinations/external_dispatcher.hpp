// Delivers SES event records to the SNS, Kinesis Firehose and EventBridge destinations of every
// configuration set, apart from the CloudWatch dispatcher (sending/event_dispatcher.*), so that
// a failing endpoint holds up nothing but its own destination.
//
// Each external destination has its own worker thread and its own cursor (event_cursors row
// (configuration set, destination name)). A worker reads its set's events in log order; events
// of a type the destination does not match, or logged while it was disabled, are passed over;
// the others are delivered, and the cursor moves only past what was delivered (at least once:
// after a crash the tail since the last cursor write is delivered again, with the same SNS
// MessageId / EventBridge id). A failed delivery is retried with exponential backoff
// (first_retry doubling up to max_retry) and blocks only the events after it in that
// destination.
//   SNS: an HTTP POST of the signed Notification envelope to every confirmed subscriber of the
//        topic (SNS Subscribe) and every static URL configured for the topic ARN; a subscriber
//        that already took an event is not posted it again while another one is retried.
//   Firehose: the record plus "\n" appended to FIREHOSE_DIR/<stream name>.jsonl, fdatasync'ed
//        before the cursor moves.
//   EventBridge: an HTTP POST of the EventBridge event to the URL configured for the bus ARN;
//        a bus without a URL drops its events (as a bus without rules), logged once.
// A destination first seen starts with the events logged from `discovery_grace` before it was
// seen (and not before its configuration set was created), so that a message sent right after
// the destination was created is not missed and a long history is not replayed.
//
// Threading: start()/stop() from one owning thread; notify() and confirm_subscription() from
// any thread. Every reference passed in must outlive the dispatcher.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/wake_signal.hpp"
#include "domain/lease.hpp"
#include "domain/sending_store.hpp"
#include "domain/sns.hpp"
#include "domain/store.hpp"
#include "domain/types.hpp"

namespace mailtally::destinations {

class SnsSigner;

// Where external destinations deliver, from the config file and `serve` flags.
struct ExternalTargets {
  // Static SNS subscribers: topic ARN -> endpoint URLs (besides API subscriptions).
  std::map<std::string, std::vector<std::string>, std::less<>> sns_subscribers;
  // EventBridge: event bus ARN -> target URL.
  std::map<std::string, std::string, std::less<>> eventbridge_targets;
  // Firehose files go here (created, mode 0700, when first needed).
  std::string firehose_dir;
  // This server's base URL (http://host:port) for SubscribeURL, UnsubscribeURL, SigningCertURL.
  std::string base_url;
};

struct ExternalOptions {
  std::size_t batch = 100;
  std::chrono::milliseconds poll{250};  // idle re-read and destination refresh period
  std::chrono::milliseconds first_retry{200};
  std::chrono::milliseconds max_retry{30000};
  std::chrono::milliseconds http_timeout{5000};
  std::chrono::seconds discovery_grace{10};
  // Several nodes: each destination is served by the node holding its lease
  // ("dispatch:<set>/<destination>", renewed every batch, released on stop); the cursor is
  // re-read whenever the lease is (re)taken. Borrowed; null: one process serves them all.
  domain::LeaseStore* leases = nullptr;
  std::string node_id;
  double lease_seconds = 30;
};

class ExternalDispatcher {
 public:
  ExternalDispatcher(domain::SendingStore& events, domain::ConfigStore& config,
                     domain::SnsStore& sns, const SnsSigner& signer, ExternalTargets targets,
                     ExternalOptions options = {});
  ~ExternalDispatcher();  // stop()
  ExternalDispatcher(const ExternalDispatcher&) = delete;
  ExternalDispatcher& operator=(const ExternalDispatcher&) = delete;

  // Sets the base URL (before start(); the listening port is known only after the server
  // started).
  void set_base_url(std::string url) { targets_.base_url = std::move(url); }
  void start();
  void notify();  // new events were logged
  void stop();    // lets in-flight requests finish (bounded by http_timeout), then joins

  // Queues a SubscriptionConfirmation POST to a new subscriber (a few attempts, best effort).
  void confirm_subscription(const domain::SnsSubscription& subscription);

 private:
  struct Worker;
  void manage();
  void refresh();
  void run_worker(Worker& w);
  void run_confirmations();
  std::int64_t start_position(const domain::ConfigurationSetRecord& set);
  // Waits until notify()/stop() or `d` passed; false when stopping.
  bool wait(std::uint64_t& seen, std::chrono::milliseconds d);
  // Waits `d` unless stopping (or `*removed`); false when stopping or removed.
  bool sleep(std::chrono::milliseconds d, const std::atomic<bool>* removed = nullptr);

  domain::SendingStore& events_;
  domain::ConfigStore& config_;
  domain::SnsStore& sns_;
  const SnsSigner& signer_;
  ExternalTargets targets_;
  const ExternalOptions options_;

  base::WakeSignal signal_;  // new events (notify()); stopped by stop()
  std::mutex mu_;
  std::condition_variable cv_;                              // stop, removals, confirmations
  bool stopping_ = false;                                   // guarded by mu_
  std::deque<domain::SnsSubscription> confirmations_;       // guarded by mu_
  std::map<std::string, std::unique_ptr<Worker>> workers_;  // manager thread only
  std::thread manager_, confirmer_;
};

}  // namespace mailtally::destinations
