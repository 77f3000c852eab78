// Delivery of queued messages: the outcome of each recipient (mailbox simulator or built-in
// mailbox, EICAR reject) as a pure plan, and the worker threads that apply plans.
//
// With a relay (DeliveryOptions::relay), non-simulator recipients are sent through it; see
// relay_delivery.hpp for the events and retries.
//
// Threading: DeliveryWorker owns its threads. start()/stop() from one controlling thread;
// notify() from any thread. stop() lets every in-flight batch finish (its transaction commits)
// and joins. A message is applied at most once: its state change and events are one
// transaction (SendingStore::complete), and a restart resumes every message still queued.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "base/clock.hpp"
#include "domain/sending_store.hpp"
#include "domain/store.hpp"
#include "domain/suppression.hpp"
#include "relay/transport.hpp"
#include "sending/batch_loop.hpp"
#include "sending/relay_delivery.hpp"

namespace mailtally::sending {

// What happens to one message delivered at `now` (epoch seconds). `reporting_mta` is this
// server's host name.
domain::SendingStore::Completion plan_delivery(const domain::QueuedMessage& message, double now,
                                               const std::string& reporting_mta);

// What plan_delivery needs beyond the message when suppression and the relay are in play.
struct DeliveryContext {
  std::string reporting_mta;
  // The effective SuppressedReasons of the message (configuration set, else account).
  std::vector<std::string> suppressed_reasons;
  // The reason `address` is on the account suppression list, nullopt when it is not (or no
  // list is configured: an empty function).
  std::function<std::optional<std::string>(const std::string& address)> listed;
  bool relay = false;        // non-simulator recipients go to the relay instead of the mailbox
  bool require_tls = false;  // the configuration set's TlsPolicy is REQUIRE
};
struct DeliveryPlan {
  domain::SendingStore::Completion completion;
  std::vector<std::string> relay_recipients;  // still to send through the relay
};
// Only the recipients still open (QueuedMessage::remaining, else all) are planned. A listed
// address whose reason the effective reasons include gets a Bounce Permanent /
// OnAccountSuppressionList and nothing else; a simulator complaint adds the address to the list
// when the reasons include COMPLAINT (simulator bounces never do: SES documents that).
DeliveryPlan plan_delivery(const domain::QueuedMessage& message, double now,
                           const DeliveryContext& context);

struct DeliveryOptions {
  std::size_t threads = 1;               // shards: worker i takes queue ids with id % threads == i
  std::size_t batch = 256;               // messages per transaction
  std::chrono::milliseconds poll{250};   // re-check interval without notify()
  std::chrono::milliseconds linger{10};  // coalescing wait after a partial batch (BatchLoop)
  bool background = true;                // lower CPU priority than request handling
  std::string reporting_mta;             // default: gethostname()
  std::function<void()> on_applied;      // after each committed batch (wake the dispatcher)
  // Optional, all borrowed and outliving the worker:
  relay::Transport* relay = nullptr;                // --relay: non-simulator recipients
  RetryPolicy retry;                                // temporary relay failures
  domain::ConfigStore* config = nullptr;            // configuration sets' SuppressionOptions
  domain::SuppressionStore* suppression = nullptr;  // the account suppression list
  // Several nodes on one store: this node's id (non-empty) makes each batch a claim with a
  // lease of `lease_seconds` (SendingStore::claim), so a message is delivered by one node and a
  // dead node's messages are taken over when its leases end; stop() releases unfinished claims.
  // With a relay a claim takes at most `relay_claim` messages, so one batch's SMTP sessions end
  // well inside the lease. Empty: one process, threads split the queue by shard.
  std::string node_id;
  double lease_seconds = 30;
  std::size_t relay_claim = 16;
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
  // Messages with relay recipients are sent (outside any transaction) and committed one by
  // one; once a relay send of the batch cannot connect to the server, the batch's other relay
  // messages are deferred with the same failure instead of waiting on the timeouts again.
  // For tests and for draining without threads.
  std::size_t run_once(std::size_t shard = 0, std::size_t shards = 1);

  std::uint64_t delivered() const { return applied_.load(); }

 private:
  // Configuration-set and account facts read once per batch.
  struct BatchCache {
    struct SetFacts {
      std::optional<std::vector<std::string>> suppressed_reasons;
      bool require_tls = false;
    };
    std::map<std::string, SetFacts, std::less<>> sets;
    std::optional<std::vector<std::string>> account_reasons;
  };
  DeliveryContext context_for(const domain::QueuedMessage& m, BatchCache& cache);

  domain::SendingStore& store_;
  const base::Clock& clock_;
  DeliveryOptions options_;
  std::atomic<std::uint64_t> applied_{0};
  BatchLoop loop_;  // last: its threads use the members above
};

std::string local_host_name();

}  // namespace mailtally::sending
