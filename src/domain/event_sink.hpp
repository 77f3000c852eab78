// Where the event dispatcher hands the CloudWatch datapoints of each destination. The metrics
// module implements MetricSink; the dispatcher (sending/event_dispatcher) calls it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/publishing.hpp"

namespace mailtally::domain {

// A matched event that published nothing (domain::publish returned a drop).
struct MetricDrop {
  std::int64_t seq = 0;
  DropReason reason = DropReason::BadHeaderCharacters;
  std::string dimension;
  std::string message_id;  // diagnostics
  double timestamp = 0;    // the event's time, epoch seconds
};

// What a batch was published under: the destination's publishing_fingerprint() and the
// dispatcher's read position before the batch (every event in (read_after, seq] was looked at
// under that configuration). The sink's replay ledger uses it; empty for the account key.
struct PublishContext {
  std::string_view fingerprint;
  std::int64_t read_after = 0;
};

// The cursor of one destination: "<configuration set>/<event destination>" ('/' is not allowed
// in either name, so the key is unambiguous).
inline std::string cursor_key(std::string_view set, std::string_view destination) {
  std::string k(set);
  k += '/';
  k += destination;
  return k;
}

// The cursor of the account-level metrics (Send, Delivery, Bounce, Complaint, Reject without
// dimensions, as SES publishes them for every message). Destination keys hold a '/', so this
// key never collides with one.
inline constexpr std::string_view kAccountCursorKey = "account";

// True for the event types SES also publishes as account-level metrics.
inline bool is_account_metric(EventType t) {
  return t == EventType::Send || t == EventType::Delivery || t == EventType::Bounce ||
         t == EventType::Complaint || t == EventType::Reject;
}

class MetricSink {
 public:
  virtual ~MetricSink() = default;
  // The last event seq applied for `cursor_key`; nullopt when nothing was ever applied. The
  // dispatcher skips events at or below it, which is what makes a re-read batch harmless.
  virtual std::optional<std::int64_t> cursor(std::string_view cursor_key) = 0;
  // Records `datapoints` (zero or more, in event order) and `drops` for the destination named
  // by `cursor_key`, and advances that cursor to `seq`, the last event seq they cover —
  // atomically, so each event is counted exactly once. Called from the dispatcher thread only, with
  // increasing `seq` per key. May throw; the dispatcher then retries the same batch later.
  virtual void apply(std::string_view cursor_key, std::int64_t seq,
                     const std::vector<Datapoint>& datapoints,
                     const std::vector<MetricDrop>& drops) = 0;
  // apply() with what the batch was published under; sinks that keep a replay ledger override.
  virtual void apply(std::string_view cursor_key, std::int64_t seq,
                     const std::vector<Datapoint>& datapoints, const std::vector<MetricDrop>& drops,
                     const PublishContext& /*context*/) {
    apply(cursor_key, seq, datapoints, drops);
  }
};

}  // namespace mailtally::domain
