// The CloudWatch event destination: puts the datapoints the SES publishing rules produce into
// the metrics store (namespace AWS/SES, unit Count, value 1 per event), together with the
// destination's cursor in one store transaction, so every event counts exactly once.
//
// Datapoints a destination does not publish (bad header characters, non-ASCII, a link tag on a
// non-click event, a value CloudWatch cannot store, or the destination's series cap reached)
// are counted as the metric `DroppedDatapoints` in namespace `mailtally/Publishing`, dimensions
// ConfigurationSet, EventDestination and Reason, so they are readable with the CloudWatch API;
// the publishing ledger (metrics/publishing_ledger.hpp) keeps their counts and latest examples
// for the diagnostics endpoint, in the same transaction.
//
// Series cap: a destination with a cap (its own override, else the sink's default) creates no
// series beyond it; each datapoint refused counts as a drop with reason `cap_reached`.
//
// Account key: every batch with Send, Bounce or Complaint events also publishes
// Reputation.BounceRate and Reputation.ComplaintRate (AWS/SES, no dimensions): bounces (or
// complaints) divided by sends over the trailing `reputation_window` (docs/event-publishing.md).
//
// Threading: apply(), apply_replay() and set_cap() may be called from any thread; one mutex
// serializes them (the cursor check, the cap check and the put must not interleave).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "domain/event_sink.hpp"
#include "metrics/metric_store.hpp"
#include "metrics/publishing_ledger.hpp"

namespace mailtally::destinations {

inline constexpr std::string_view kDiagnosticsNamespace = "mailtally/Publishing";
inline constexpr std::string_view kDroppedMetric = "DroppedDatapoints";
inline constexpr std::string_view kCapReached = "cap_reached";
inline constexpr std::string_view kUnstorable = "unstorable_dimension";
inline constexpr std::string_view kBounceRateMetric = "Reputation.BounceRate";
inline constexpr std::string_view kComplaintRateMetric = "Reputation.ComplaintRate";

struct SinkOptions {
  std::optional<std::int64_t> default_cap;     // series per destination; nullopt: unlimited
  std::int64_t reputation_window = 24 * 3600;  // seconds
};

class CloudWatchSink final : public domain::MetricSink {
 public:
  // `store`, `ledger` (usually the same object) and `clock` must outlive the sink.
  CloudWatchSink(metrics::MetricStore& store, metrics::PublishingLedger& ledger,
                 const base::Clock& clock, SinkOptions options = {});

  std::optional<std::int64_t> cursor(std::string_view cursor_key) override;
  void apply(std::string_view cursor_key, std::int64_t seq,
             const std::vector<domain::Datapoint>& datapoints,
             const std::vector<domain::MetricDrop>& drops) override;
  void apply(std::string_view cursor_key, std::int64_t seq,
             const std::vector<domain::Datapoint>& datapoints,
             const std::vector<domain::MetricDrop>& drops,
             const domain::PublishContext& context) override;

  // Replay: publishes `datapoints` / `drops` of already dispatched events for `cursor_key`
  // (same cap and drop rules, no cursor move) and records `ranges` as replayed under
  // `fingerprint`, in one transaction.
  void apply_replay(std::string_view cursor_key, const std::vector<domain::Datapoint>& datapoints,
                    const std::vector<domain::MetricDrop>& drops, std::string_view fingerprint,
                    const std::vector<metrics::SeqRange>& ranges);

  // The cap in force for a destination key (override, else default); nullopt: unlimited.
  std::optional<std::int64_t> cap_of(std::string_view cursor_key);
  std::optional<std::int64_t> default_cap() const { return options_.default_cap; }
  // Sets (or, with nullopt, removes) a destination's override; durable when it returns.
  void set_cap(std::string_view cursor_key, std::optional<std::int64_t> cap);

  // Since start: datapoints put into AWS/SES (account-level included), for /metrics.
  std::uint64_t datapoints_published() const { return published_.load(); }

 private:
  struct Minute {
    std::int64_t start = 0;
    double sends = 0, bounces = 0, complaints = 0;
  };
  void apply_locked(std::string_view cursor_key, std::int64_t seq,
                    const std::vector<domain::Datapoint>& datapoints,
                    const std::vector<domain::MetricDrop>& drops,
                    const domain::PublishContext* live,
                    const std::vector<metrics::SeqRange>* replayed);
  void add_reputation(const std::vector<domain::Datapoint>& datapoints,
                      std::vector<metrics::Datum>& data, double now);
  void load_caps();

  metrics::MetricStore& store_;
  metrics::PublishingLedger& ledger_;
  const base::Clock& clock_;
  SinkOptions options_;
  std::mutex mu_;  // guards everything below
  bool caps_loaded_ = false;
  std::map<std::string, std::int64_t, std::less<>> cap_overrides_;
  std::map<std::string, std::int64_t, std::less<>> owned_counts_;  // loaded on first use
  bool window_loaded_ = false;
  std::deque<Minute> window_;  // reputation counts per minute, oldest first
  std::atomic<std::uint64_t> published_{0};
};

// The cursor's name inside the metrics store.
std::string sink_cursor_name(std::string_view cursor_key);

// "Set/destination" -> ("Set", "destination"); the account key has no destination.
std::pair<std::string, std::string> split_cursor_key(std::string_view key);

}  // namespace mailtally::destinations
