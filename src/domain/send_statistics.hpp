// Sending statistics (SES v1 GetSendStatistics) and the account's recent sending, as the
// quota operations report them. Pure values and interfaces: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mailtally::domain {

inline constexpr std::int64_t kSendStatisticsBucketSeconds = 15 * 60;

// One 15-minute interval. Counts are recipients: DeliveryAttempts of Send events, Bounces of
// Bounce events, Complaints of Complaint events, Rejects of Reject events.
struct SendDataPoint {
  std::int64_t bucket = 0;  // epoch seconds of the interval's start (a multiple of 900)
  std::int64_t delivery_attempts = 0;
  std::int64_t bounces = 0;
  std::int64_t complaints = 0;
  std::int64_t rejects = 0;
};

// The per-interval counters, folded in from the event log behind their own cursor (storage
// adapter). Threading: callable from any thread. Database failures throw std::runtime_error.
class SendStatisticsStore {
 public:
  virtual ~SendStatisticsStore() = default;
  // Counts up to `max_events` events logged since the last fold, in one transaction with the
  // fold's cursor (so nothing is counted twice); returns how many were folded.
  virtual std::size_t fold_send_statistics(std::size_t max_events) = 0;
  // Intervals with bucket >= since_bucket, oldest first, only those with any count, as folded
  // so far.
  virtual std::vector<SendDataPoint> send_statistics(std::int64_t since_bucket) = 0;
};

// What the quota operations read: implemented by sending::SendQuota.
// Threading: callable from any thread.
class SendingUsage {
 public:
  virtual ~SendingUsage() = default;
  // Recipients sent to over the last 24 hours (15-minute granularity).
  virtual double sent_last_24_hours() const = 0;
  // The last two weeks of 15-minute intervals, oldest first.
  virtual std::vector<SendDataPoint> send_statistics() const = 0;
};

}  // namespace mailtally::domain
