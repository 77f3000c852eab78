// Storage interface of the sending pipeline: the durable message queue, the append-only event
// log, the built-in mailbox and the per-destination event cursors. Adapters (storage/sqlite)
// implement it; the domain and sending/ only see this header.
//
// Threading: every method may be called from any thread at once. Durability: every change is
// committed (survives kill -9) before the call returns. Database failures throw
// std::runtime_error.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/suppression.hpp"

namespace mailtally::domain {

// One event to append to the log. `record` is the SES event record (JSON text).
struct NewEvent {
  std::string event_type;  // the record's eventType: Send, Delivery, Rendering Failure, ...
  std::string record;
};

struct LoggedEvent {
  std::int64_t seq = 0;  // strictly increasing in commit order
  std::string message_id;
  std::string configuration_set;  // empty when the message has none
  std::string event_type;
  std::string record;
  double created_at = 0;          // epoch seconds
  bool tags_from_header = false;  // of the event's message (see QueuedMessage)
};

// A message accepted for delivery. `raw` is what recipients get (X-SES-* headers removed);
// `mail` is the JSON of the event records' `mail` object, kept so every later event of the
// message repeats it exactly.
struct QueuedMessage {
  std::int64_t id = 0;  // assigned by the store (enqueue order)
  std::string message_id;
  std::string configuration_set;        // empty when none
  std::vector<std::string> recipients;  // envelope recipients (To, Cc, Bcc / Destinations)
  std::string mail;
  std::string raw;
  double created_at = 0;          // epoch seconds
  bool has_virus = false;         // EICAR found at intake: Reject, no delivery
  bool tags_from_header = false;  // the non-"ses:" tags came from X-SES-MESSAGE-TAGS
  bool finished = false;  // stored finished, never queued for delivery (a Rendering Failure)
  // Relay retries (Completion::defer): the recipients still to deliver (nullopt: all of
  // `recipients`, no attempt deferred yet) and how many attempts were deferred so far.
  std::optional<std::vector<std::string>> remaining;
  int attempts = 0;
};

// A copy of a message put into the built-in mailbox for one recipient.
struct MailboxEntry {
  std::int64_t id = 0;
  std::string message_id;
  std::string recipient;
  std::string mail;  // the message's event-record `mail` object (JSON)
  std::string raw;   // only filled by mailbox_message()
  double delivered_at = 0;
};

struct EventFilter {
  std::optional<std::string> configuration_set;
  std::optional<std::string> event_type;
  std::optional<std::string> message_id;
  std::int64_t after = 0;  // only seq > after
  std::size_t limit = 100;
  // Wait until every enqueue acknowledged before the call is readable (see wait_readable()).
  // Readers that follow the log with a cursor and are notified of new events turn it off.
  bool read_own_writes = true;
};

class SendingStore {
 public:
  virtual ~SendingStore() = default;

  // Stores the message as queued (or finished, when `message.finished`) and appends `events`
  // (its Send event) in ONE transaction.
  // Returns the message's queue id.
  virtual std::int64_t enqueue(const QueuedMessage& message, const std::vector<NewEvent>& events,
                               double now) = 0;

  // enqueue() without waiting: `done` runs once the message and its events are committed (with
  // the queue id and a null error) or failed (id 0 and the exception), on a thread of the
  // store's choosing; it must be short. Lets a caller hand the commit over and serve other
  // requests meanwhile; stores batch concurrent enqueues into one transaction. This default
  // commits on the calling thread.
  // Stores with an asynchronous intake (SQLite: storage/intake/log.hpp) acknowledge an enqueue
  // once it is durable and make it readable a moment later; their `done` gets id 0.
  using EnqueueDone = std::function<void(std::int64_t id, std::exception_ptr error)>;
  // Returns once every enqueue acknowledged before the call is readable (queued(), claim(),
  // events(), the mailbox, statistics). A no-op for stores whose enqueues are readable once
  // acknowledged.
  virtual void wait_readable() {}
  // Stores with an asynchronous intake call `listener` (on their own thread, briefly) each time
  // more enqueued messages became readable; others never do. Set before the store is used;
  // an empty function removes it (before the listener's targets are destroyed).
  virtual void set_readable_listener(std::function<void()> listener) { (void)listener; }

  virtual void enqueue_async(QueuedMessage message, std::vector<NewEvent> events, double now,
                             EnqueueDone done) {
    std::int64_t id = 0;
    std::exception_ptr error;
    try {
      id = enqueue(message, events, now);
    } catch (...) {
      error = std::current_exception();
    }
    done(id, error);
  }

  // Queued (unfinished) messages with id > `after_id` whose next attempt is due at `due_by`
  // (epoch seconds; messages never deferred are always due; the default: every message), in
  // id order, at most `limit`; with `shards` > 1 only those with id % shards == shard.
  virtual std::vector<QueuedMessage> queued(
      std::int64_t after_id, std::size_t limit, std::size_t shard, std::size_t shards,
      double due_by = std::numeric_limits<double>::infinity()) = 0;

  // ---- several nodes sharing one store (storage/postgres) ----
  // Claims up to `limit` messages due at `now` for delivery by `owner` (a node id) for
  // `lease_seconds`: until the lease ends no other owner gets them from claim(), and a message
  // whose lease ended (its node died) is claimed again by whoever asks next. complete() ends
  // the claim. Stores shared by several processes must override this; the default serves one
  // process, where the delivery threads split the queue by `shard` instead of by leases.
  virtual std::vector<QueuedMessage> claim(std::string_view owner, std::size_t limit,
                                           std::size_t shard, std::size_t shards, double now,
                                           double lease_seconds) {
    (void)owner;
    (void)lease_seconds;
    return queued(0, limit, shard, shards, now);
  }
  // Ends every claim of `owner` that is not completed, so other nodes take those messages at
  // once (a graceful stop). Nothing to do for a one-process store.
  virtual void release_claims(std::string_view owner) { (void)owner; }

  // The outcome of one delivery attempt: the message leaves the queue, its events are appended
  // and its mailbox copies stored, all in one transaction.
  struct Completion {
    std::int64_t id = 0;
    std::string message_id;
    std::string configuration_set;
    std::vector<NewEvent> events;
    std::vector<std::string> mailbox_recipients;  // each gets a copy of the queued raw message
    // Set when some recipients got a temporary failure from the relay: instead of leaving the
    // queue the message stays queued with only these recipients (QueuedMessage::remaining),
    // `attempts` deferred attempts, and is not due again before `next_attempt_at`.
    struct Deferral {
      std::vector<std::string> recipients;
      double next_attempt_at = 0;
      int attempts = 0;
    };
    std::optional<Deferral> defer;
    // Addresses to put on the account suppression list (bounces and complaints whose reason
    // the message's effective SuppressedReasons include), in the same transaction.
    std::vector<SuppressedDestination> suppress;
  };
  // Applies every completion in ONE transaction. A completion whose message is no longer
  // queued is skipped entirely (nothing is applied twice). Returns how many were applied.
  // Relay deliveries happen before this call, outside the transaction: a crash between the
  // two re-delivers those recipients after a restart (at least once, as SES).
  virtual std::size_t complete(const std::vector<Completion>& completions, double now) = 0;

  // ---- reads (local debugging API, dispatcher) ----
  virtual std::vector<LoggedEvent> events(const EventFilter& filter) = 0;
  virtual std::vector<MailboxEntry> mailbox(std::optional<std::string> recipient,
                                            std::size_t limit) = 0;
  virtual std::optional<MailboxEntry> mailbox_message(std::string_view message_id) = 0;
  // Messages accepted and not yet delivered (for monitoring). The default counts through
  // queued(), up to 100,000; adapters answer it cheaply.
  virtual std::size_t queue_depth() { return queued(0, 100000, 0, 1).size(); }
  // The message's copy as stored in the queue table (also after delivery).
  virtual std::optional<std::string> raw_message(std::string_view message_id) = 0;

  // ---- open/click tracking ----
  // Builds events for the stored message `message_id` and appends them with the message's
  // configuration set, in ONE transaction: `make` gets the message's `mail` JSON and its
  // acceptance time (epoch seconds) and returns the events (may be empty). Returns false, and
  // appends nothing, when no message has that id. `make` runs under the store's write lock:
  // keep it short and never call the store from it.
  using MakeEvents = std::function<std::vector<NewEvent>(std::string_view mail, double created_at)>;
  virtual bool append_message_events(std::string_view message_id, const MakeEvents& make,
                                     double now) = 0;
  // The server secret `name` (bytes). On first use it is stored with the value `candidate`
  // (the caller passes fresh random bytes); later calls, also from other processes sharing the
  // database, return the stored value. `name` is [a-z_]+.
  virtual std::string server_secret(std::string_view name, std::string_view candidate) = 0;

  // ---- event cursors (table event_cursors) ----
  // last_seq of the cursor, or nullopt when it was never written.
  virtual std::optional<std::int64_t> cursor(std::string_view configuration_set,
                                             std::string_view destination) = 0;
  // Moves the cursor forward to `seq` (never backward).
  virtual void advance_cursor(std::string_view configuration_set, std::string_view destination,
                              std::int64_t seq) = 0;
};

}  // namespace mailtally::domain
