// The account's sending quota: a maximum send rate (recipients per second, a token bucket) and a
// maximum of recipients per rolling 24 hours (96 in-memory 15-minute counters, loaded at start
// from the statistics folded from the event log). Also the domain::SendingUsage the quota
// operations read (SentLast24Hours, GetSendStatistics), and the thread that folds new events
// into the statistics (every `fold_period`, in small transactions, off the send path).
//
// Threading: take(), sent_last_24_hours() and send_statistics() may be called from any thread;
// take() holds a mutex for a few arithmetic operations only (no I/O on the send path).
// start()/stop() from one owning thread. `clock` and `statistics` must outlive this object.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "base/clock.hpp"
#include "domain/send_statistics.hpp"

namespace mailtally::sending {

struct SendError;  // sending/sender.hpp

enum class QuotaVerdict { Ok, RateExceeded, DailyQuotaExceeded };

class SendQuota final : public domain::SendingUsage {
 public:
  // A limit <= 0 means unlimited (SES reports Max24HourSend -1 for unlimited accounts).
  // Folds the whole unfolded tail of the log first (so the window starts right).
  SendQuota(const base::Clock& clock, double max_24_hour_send, double max_send_rate,
            domain::SendStatisticsStore& statistics);
  ~SendQuota() override;  // stop()

  // Several nodes on one database (`shared`): after every fold the 24-hour window is reloaded
  // from the shared statistics (every node's sends), plus what this node admitted since the
  // previous reload (which the fold may not have seen yet), so Max24HourSend holds for the
  // whole account, erring on the safe side by at most one fold period of this node's sends.
  // The rate (MaxSendRate) stays per node. Call before start().
  void set_shared(bool shared) { shared_ = shared; }
  // Before start(): run before send_statistics() reads, so that it counts every send
  // acknowledged before the call (SendingStore::wait_readable).
  void set_before_read(std::function<void()> before_read) { before_read_ = std::move(before_read); }

  void start(std::chrono::milliseconds fold_period = std::chrono::seconds(2));
  void stop();

  // Admits a message to `recipients` recipients and counts it, or says which limit it exceeds
  // (nothing is counted then). The rate bucket holds one second of sending; a message with more
  // recipients than that passes only with a full bucket (and leaves it in debt).
  QuotaVerdict take(std::size_t recipients);

  double sent_last_24_hours() const override;
  // Folds what the log added since the last fold, then reads two weeks.
  std::vector<domain::SendDataPoint> send_statistics() const override;

 private:
  static constexpr std::size_t kFoldChunk = 2000;  // events per fold transaction
  void fold_all() const;
  // The 24-hour window from the statistics (+ pending_ when shared); see set_shared().
  void load_window();
  static constexpr std::size_t kBuckets = 96;  // 24 h of 15-minute intervals
  double now_seconds() const;
  // Drops counters older than 24 h relative to `bucket`; requires mu_.
  std::int64_t sum_window(std::int64_t bucket) const;

  const base::Clock& clock_;
  const double max_24_hour_send_;
  const double max_send_rate_;
  domain::SendStatisticsStore& statistics_;
  mutable std::mutex mu_;
  double tokens_;                                // guarded by mu_
  double last_refill_;                           // guarded by mu_; epoch seconds
  std::array<std::int64_t, kBuckets> starts_{};  // guarded by mu_; bucket start per slot
  std::array<std::int64_t, kBuckets> counts_{};  // guarded by mu_; recipients per slot
  // Shared mode: recipients this node admitted since the last load_window(), per slot.
  std::array<std::int64_t, kBuckets> pending_starts_{};  // guarded by mu_
  std::array<std::int64_t, kBuckets> pending_{};         // guarded by mu_
  bool shared_ = false;

  std::function<void()> before_read_;
  std::mutex fold_mu_;  // guards stopping_ (with fold_cv_)
  std::condition_variable fold_cv_;
  bool stopping_ = false;
  std::thread folder_;
};

// The send path's one call: nullopt when `quota` (may be nullptr) admits the message, else the
// SendError SES answers (Throttling "Maximum sending rate exceeded." / "Daily message quota
// exceeded." in v1 terms; services/ses_send.cpp maps it per API version).
std::optional<SendError> check_quota(SendQuota* quota, std::size_t recipients);

}  // namespace mailtally::sending
