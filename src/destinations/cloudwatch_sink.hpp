// The CloudWatch event destination: puts the datapoints the SES publishing rules produce into
// the metrics store (namespace AWS/SES, unit Count, value 1 per event), together with the
// destination's cursor in one store transaction, so every event counts exactly once.
//
// Datapoints a destination does not publish (bad header characters, non-ASCII, a link tag on a
// non-click event, or a value CloudWatch cannot store) are counted as the metric
// `DroppedDatapoints` in namespace `mailtally/Publishing`, dimensions ConfigurationSet,
// EventDestination and Reason, so they are readable with the CloudWatch API.
//
// Threading: apply() and cursor() are called from the dispatcher thread only (the skip check
// and the put are not one transaction otherwise).
#pragma once

#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "domain/event_sink.hpp"
#include "metrics/metric_store.hpp"

namespace mailtally::destinations {

inline constexpr std::string_view kDiagnosticsNamespace = "mailtally/Publishing";
inline constexpr std::string_view kDroppedMetric = "DroppedDatapoints";

class CloudWatchSink final : public domain::MetricSink {
 public:
  // `store` and `clock` must outlive the sink.
  CloudWatchSink(metrics::MetricStore& store, const base::Clock& clock);

  std::optional<std::int64_t> cursor(std::string_view cursor_key) override;
  void apply(std::string_view cursor_key, std::int64_t seq,
             const std::vector<domain::Datapoint>& datapoints,
             const std::vector<domain::MetricDrop>& drops) override;

 private:
  metrics::MetricStore& store_;
  const base::Clock& clock_;
};

// The cursor's name inside the metrics store.
std::string sink_cursor_name(std::string_view cursor_key);

}  // namespace mailtally::destinations
