#include "destinations/cloudwatch_sink.hpp"

#include <chrono>

#include "domain/publishing.hpp"

namespace mailtally::destinations {
namespace {

metrics::Datum count_of(std::string ns, std::string name, std::vector<metrics::Dimension> dims,
                        double timestamp) {
  metrics::Datum d;
  d.series.metric.ns = std::move(ns);
  d.series.metric.name = std::move(name);
  d.series.metric.dimensions = std::move(dims);
  metrics::normalize(d.series.metric);
  d.series.unit = "Count";
  d.timestamp = timestamp;
  d.value = 1.0;
  return d;
}

// "Set/destination" -> ("Set", "destination"); the account key has no destination.
std::pair<std::string, std::string> split_key(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return {std::string(key), std::string()};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

// What CloudWatch can hold and later give back: the store's own rules plus the API's dimension
// limits (names 1..255, values 1..1024 characters).
bool retrievable(const metrics::SeriesKey& series) {
  if (!metrics::storable(series)) return false;
  for (const auto& d : series.metric.dimensions) {
    if (d.name.empty() || d.name.size() > 255 || d.value.empty() || d.value.size() > 1024) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string sink_cursor_name(std::string_view cursor_key) {
  return "ses-publishing:" + std::string(cursor_key);
}

CloudWatchSink::CloudWatchSink(metrics::MetricStore& store, const base::Clock& clock)
    : store_(store), clock_(clock) {}

std::optional<std::int64_t> CloudWatchSink::cursor(std::string_view cursor_key) {
  return store_.cursor(sink_cursor_name(cursor_key));
}

void CloudWatchSink::apply(std::string_view cursor_key, std::int64_t seq,
                           const std::vector<domain::Datapoint>& datapoints,
                           const std::vector<domain::MetricDrop>& drops) {
  // A batch read again after a crash between our commit and the dispatcher's own position.
  if (auto done = cursor(cursor_key); done && seq <= *done) return;
  const double now = std::chrono::duration<double>(clock_.now().time_since_epoch()).count();
  auto [set, destination] = split_key(cursor_key);
  auto dropped = [&](std::string_view reason, double timestamp) {
    return count_of(std::string(kDiagnosticsNamespace), std::string(kDroppedMetric),
                    {{"ConfigurationSet", set.empty() ? "-" : set},
                     {"EventDestination", destination.empty() ? "-" : destination},
                     {"Reason", std::string(reason)}},
                    timestamp);
  };
  std::vector<metrics::Datum> data;
  data.reserve(datapoints.size() + drops.size());
  for (const auto& p : datapoints) {
    std::vector<metrics::Dimension> dims;
    dims.reserve(p.dimensions.size());
    for (const auto& [name, value] : p.dimensions) dims.push_back({name, value});
    auto d =
        count_of(std::string(domain::kSesNamespace), p.metric_name, std::move(dims), p.timestamp);
    if (retrievable(d.series)) {
      data.push_back(std::move(d));
    } else {
      data.push_back(dropped("unstorable_dimension", p.timestamp));
    }
  }
  for (const auto& drop : drops)
    data.push_back(dropped(domain::drop_reason_name(drop.reason), now));
  store_.put(data, metrics::CursorAdvance{sink_cursor_name(cursor_key), seq});
}

}  // namespace mailtally::destinations
