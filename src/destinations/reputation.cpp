// CloudWatchSink's account-level reputation metrics (Reputation.BounceRate and
// Reputation.ComplaintRate), computed over a trailing window of per-minute account counts.
#include <cmath>

#include "destinations/cloudwatch_sink.hpp"

namespace mailtally::destinations {
namespace {

std::int64_t minute_of(double t) { return static_cast<std::int64_t>(std::floor(t / 60)) * 60; }

double minute_sum(const metrics::MetricStore& store, std::string_view name, std::int64_t start,
                  std::int64_t end, std::vector<std::pair<std::int64_t, double>>& out) {
  metrics::StatisticsQuery q;
  q.metric.ns = "AWS/SES";
  q.metric.name = std::string(name);
  q.start = start;
  q.end = end;
  q.period = 60;
  q.merge_units = true;
  double total = 0;
  for (const auto& p : store.statistics(q)) {
    out.emplace_back(p.timestamp, p.aggregate.sum);
    total += p.aggregate.sum;
  }
  return total;
}

}  // namespace

void CloudWatchSink::add_reputation(const std::vector<domain::Datapoint>& datapoints,
                                    std::vector<metrics::Datum>& data, double now) {
  const std::int64_t window_start = minute_of(now) - options_.reputation_window + 60;
  auto bucket = [&](std::int64_t minute) -> Minute& {
    // Minutes arrive nearly in order; insert keeping the deque sorted.
    auto it = window_.end();
    while (it != window_.begin() && std::prev(it)->start > minute) --it;
    if (it != window_.begin() && std::prev(it)->start == minute) return *std::prev(it);
    return *window_.insert(it, Minute{minute});
  };
  if (!window_loaded_) {
    window_.clear();
    const std::int64_t end = minute_of(now) + 3600;
    std::vector<std::pair<std::int64_t, double>> rows;
    minute_sum(store_, "Send", window_start, end, rows);
    for (auto& [t, v] : rows) bucket(t).sends += v;
    rows.clear();
    minute_sum(store_, "Bounce", window_start, end, rows);
    for (auto& [t, v] : rows) bucket(t).bounces += v;
    rows.clear();
    minute_sum(store_, "Complaint", window_start, end, rows);
    for (auto& [t, v] : rows) bucket(t).complaints += v;
    window_loaded_ = true;
  }
  bool changed = false;
  for (const auto& p : datapoints) {
    const std::int64_t m = minute_of(p.timestamp);
    if (m < window_start) continue;
    if (p.metric_name == "Send") {
      bucket(m).sends += 1;
    } else if (p.metric_name == "Bounce") {
      bucket(m).bounces += 1;
    } else if (p.metric_name == "Complaint") {
      bucket(m).complaints += 1;
    } else {
      continue;
    }
    changed = true;
  }
  while (!window_.empty() && window_.front().start < window_start) window_.pop_front();
  if (!changed) return;
  double sends = 0, bounces = 0, complaints = 0;
  for (const auto& m : window_) {
    sends += m.sends;
    bounces += m.bounces;
    complaints += m.complaints;
  }
  if (!(sends > 0)) return;  // no rate without sends in the window
  auto rate = [&](std::string_view name, double value) {
    metrics::Datum d;
    d.series.metric.ns = "AWS/SES";
    d.series.metric.name = std::string(name);
    d.series.unit = "Percent";
    d.timestamp = now;
    d.value = value;
    data.push_back(std::move(d));
  };
  rate(kBounceRateMetric, std::min(1.0, bounces / sends));
  rate(kComplaintRateMetric, std::min(1.0, complaints / sends));
}

}  // namespace mailtally::destinations
