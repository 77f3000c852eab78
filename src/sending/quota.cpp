#include "sending/quota.hpp"

#include "base/thread_name.hpp"
#include "sending/sender.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace mailtally::sending {
namespace {

constexpr std::int64_t kBucket = domain::kSendStatisticsBucketSeconds;
constexpr std::int64_t kTwoWeeks = 14 * 24 * 3600;

std::int64_t bucket_of(double t) {
  auto s = static_cast<std::int64_t>(t);
  return s - (s % kBucket + kBucket) % kBucket;
}

}  // namespace

SendQuota::SendQuota(const base::Clock& clock, double max_24_hour_send, double max_send_rate,
                     domain::SendStatisticsStore& statistics)
    : clock_(clock),
      max_24_hour_send_(max_24_hour_send),
      max_send_rate_(max_send_rate),
      statistics_(statistics),
      tokens_(max_send_rate > 0 ? max_send_rate : 0),
      last_refill_(now_seconds()) {
  fold_all();
  load_window();
}

void SendQuota::load_window() {
  std::int64_t current = bucket_of(now_seconds());
  std::int64_t first = current - static_cast<std::int64_t>(kBuckets - 1) * kBucket;
  auto points = statistics_.send_statistics(first);  // outside mu_: I/O
  std::lock_guard lock(mu_);
  starts_.fill(0);
  counts_.fill(0);
  for (const auto& p : points) {
    std::size_t slot = static_cast<std::size_t>(p.bucket / kBucket) % kBuckets;
    starts_[slot] = p.bucket;
    counts_[slot] = p.delivery_attempts;
  }
  for (std::size_t slot = 0; slot < kBuckets; ++slot) {
    if (pending_[slot] == 0) continue;
    if (starts_[slot] != pending_starts_[slot]) {
      starts_[slot] = pending_starts_[slot];
      counts_[slot] = 0;
    }
    counts_[slot] += pending_[slot];
  }
  pending_.fill(0);
}

SendQuota::~SendQuota() { stop(); }

void SendQuota::start(std::chrono::milliseconds fold_period) {
  if (folder_.joinable()) return;
  stopping_ = false;
  folder_ = std::thread([this, fold_period] {
    base::name_this_thread("quota fold");
    base::lower_this_thread_priority();
    std::unique_lock lock(fold_mu_);
    while (!fold_cv_.wait_for(lock, fold_period, [this] { return stopping_; })) {
      lock.unlock();
      try {
        fold_all();
        if (shared_) load_window();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "mailtally: send statistics: %s\n", e.what());
      }
      lock.lock();
    }
  });
}

void SendQuota::stop() {
  {
    std::lock_guard lock(fold_mu_);
    stopping_ = true;
  }
  fold_cv_.notify_all();
  if (folder_.joinable()) folder_.join();
}

void SendQuota::fold_all() const {
  while (statistics_.fold_send_statistics(kFoldChunk) >= kFoldChunk) {
  }
}

double SendQuota::now_seconds() const {
  return std::chrono::duration<double>(clock_.now().time_since_epoch()).count();
}

std::int64_t SendQuota::sum_window(std::int64_t bucket) const {
  std::int64_t first = bucket - static_cast<std::int64_t>(kBuckets - 1) * kBucket;
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (starts_[i] >= first && starts_[i] <= bucket) sum += counts_[i];
  }
  return sum;
}

QuotaVerdict SendQuota::take(std::size_t recipients) {
  const double now = now_seconds();
  const std::int64_t bucket = bucket_of(now);
  const auto n = static_cast<std::int64_t>(recipients);
  std::lock_guard lock(mu_);
  if (max_send_rate_ > 0) {
    tokens_ =
        std::min(max_send_rate_, tokens_ + std::max(0.0, now - last_refill_) * max_send_rate_);
    last_refill_ = std::max(last_refill_, now);
    double needed = std::min(static_cast<double>(n), max_send_rate_);
    if (tokens_ + 1e-9 < needed) return QuotaVerdict::RateExceeded;
  }
  if (max_24_hour_send_ > 0 &&
      static_cast<double>(sum_window(bucket) + n) > max_24_hour_send_ + 1e-9) {
    return QuotaVerdict::DailyQuotaExceeded;
  }
  if (max_send_rate_ > 0) tokens_ -= static_cast<double>(n);
  std::size_t slot = static_cast<std::size_t>(bucket / kBucket) % kBuckets;
  if (starts_[slot] != bucket) {
    starts_[slot] = bucket;
    counts_[slot] = 0;
  }
  counts_[slot] += n;
  if (shared_) {
    if (pending_starts_[slot] != bucket) {
      pending_starts_[slot] = bucket;
      pending_[slot] = 0;
    }
    pending_[slot] += n;
  }
  return QuotaVerdict::Ok;
}

double SendQuota::sent_last_24_hours() const {
  const std::int64_t bucket = bucket_of(now_seconds());
  std::lock_guard lock(mu_);
  return static_cast<double>(sum_window(bucket));
}

std::vector<domain::SendDataPoint> SendQuota::send_statistics() const {
  if (before_read_) before_read_();
  fold_all();
  return statistics_.send_statistics(bucket_of(now_seconds()) - kTwoWeeks + kBucket);
}

std::optional<SendError> check_quota(SendQuota* quota, std::size_t recipients) {
  if (!quota) return std::nullopt;
  switch (quota->take(recipients)) {
    case QuotaVerdict::Ok:
      return std::nullopt;
    case QuotaVerdict::RateExceeded:
      return SendError{SendErrorKind::MaxSendRateExceeded, "Maximum sending rate exceeded.", {}};
    case QuotaVerdict::DailyQuotaExceeded:
      return SendError{SendErrorKind::DailyQuotaExceeded, "Daily message quota exceeded.", {}};
  }
  return std::nullopt;
}

}  // namespace mailtally::sending
