// CloudWatch GetMetricStatistics, and the MetricStat reader GetMetricData shares.
#include <algorithm>
#include <cmath>

#include "metrics/rules.hpp"
#include "services/cloudwatch_internal.hpp"
#include "services/doc.hpp"

namespace mailtally::services::cloudwatch {

namespace rules = metrics::rules;

std::optional<wire::ApiError> check_period(std::optional<std::int64_t> period,
                                           const std::string& path) {
  if (!period) return missing_parameter("The parameter " + path + " is required.");
  if (*period < 1) {
    return invalid_parameter(std::to_string(*period), path, "Period must be at least 1.");
  }
  if (!rules::valid_period(*period)) {
    return invalid_value("The parameter " + path +
                         " must be 1, 5, 10, 30 or a multiple of 60 (got " +
                         std::to_string(*period) + ").");
  }
  return std::nullopt;
}

metrics::expr::Series read_stat_series(const metrics::MetricStore& store, const StatRequest& r,
                                       double start, double end, std::int64_t now) {
  metrics::expr::Series out;
  out.label = r.metric.name;
  rules::Window w = rules::round_window(start, end, r.period, now);
  if (!w.returns_data || w.end <= w.start) return out;
  metrics::StatisticsQuery q;
  q.metric = r.metric;
  q.unit = r.unit;
  q.start = w.start;
  q.end = w.end;
  q.period = r.period;
  q.not_before = w.data_from;
  q.with_sketch = r.stat.kind == metrics::StatKind::Percentile;
  q.merge_units = true;
  for (const auto& p : store.statistics(q)) {
    if (auto v = metrics::statistic_value(p.aggregate, r.stat)) {
      out.timestamps.push_back(p.timestamp);
      out.values.push_back(*v);
    }
  }
  return out;
}

namespace {

struct Wanted {
  std::vector<metrics::Statistic> statistics;
  std::vector<metrics::Statistic> percentiles;
};

base::Expected<Wanted, wire::ApiError> read_wanted(const json::object& in) {
  const json::array* stats = doc::arr(in, "Statistics");
  const json::array* ext = doc::arr(in, "ExtendedStatistics");
  if (stats && stats->empty()) stats = nullptr;
  if (ext && ext->empty()) ext = nullptr;
  if (stats && ext) {
    return fail(invalid_combination(
        "The parameters Statistics and ExtendedStatistics are mutually exclusive and you have "
        "specified both."));
  }
  if (!stats && !ext) {
    return fail(invalid_combination("Either Statistics or ExtendedStatistics must be specified."));
  }
  Wanted w;
  if (stats) {
    if (stats->size() > 5) {
      return fail(invalid_value("The collection Statistics must not have a size greater than 5."));
    }
    for (std::size_t i = 0; i < stats->size(); ++i) {
      std::string name = (*stats)[i].is_string() ? std::string((*stats)[i].get_string()) : "";
      auto s = metrics::parse_statistic(name);
      if (!s || s->kind == metrics::StatKind::Percentile) {
        return fail(invalid_parameter(name, member_path("Statistics", i + 1),
                                      "Use one of SampleCount, Average, Sum, Minimum, Maximum."));
      }
      w.statistics.push_back(*s);
    }
  } else {
    if (ext->size() > 10) {
      return fail(
          invalid_value("The collection ExtendedStatistics must not have a size greater than 10."));
    }
    for (std::size_t i = 0; i < ext->size(); ++i) {
      std::string name = (*ext)[i].is_string() ? std::string((*ext)[i].get_string()) : "";
      auto p = metrics::parse_percentile(name);
      if (!p) {
        return fail(invalid_parameter(name, member_path("ExtendedStatistics", i + 1),
                                      "Use a percentile between p0.0 and p100 (pNN.NN)."));
      }
      w.percentiles.push_back(*p);
    }
  }
  return w;
}

json::object datapoint(const metrics::PeriodStatistics& p, const Wanted& wanted) {
  json::object dp{{"Timestamp", static_cast<double>(p.timestamp)}};
  for (const auto& s : wanted.statistics) {
    if (auto v = metrics::statistic_value(p.aggregate, s)) dp[s.name] = *v;
  }
  if (!wanted.percentiles.empty()) {
    json::object ext;
    for (const auto& s : wanted.percentiles) {
      if (auto v = metrics::statistic_value(p.aggregate, s)) ext[s.name] = *v;
    }
    if (!ext.empty()) dp["ExtendedStatistics"] = std::move(ext);
  }
  dp["Unit"] = p.unit;
  return dp;
}

}  // namespace

Output get_metric_statistics(const metrics::MetricStore& store, const base::Clock& clock,
                             const json::object& in) {
  auto key = read_metric(in, "");
  if (!key) return fail(std::move(key).error());
  auto start = doc::opt_number(in, "StartTime");
  auto end = doc::opt_number(in, "EndTime");
  if (!start) return fail(missing_parameter("The parameter StartTime is required."));
  if (!end) return fail(missing_parameter("The parameter EndTime is required."));
  auto period = doc::opt_int(in, "Period");
  if (auto e = check_period(period, "Period")) return fail(std::move(*e));
  auto wanted = read_wanted(in);
  if (!wanted) return fail(std::move(wanted).error());
  if (!(*start < *end)) {
    return fail(invalid_value("The parameter StartTime must be less than the parameter EndTime."));
  }

  const std::int64_t now = now_seconds(clock);
  rules::Window w = rules::round_window(*start, *end, *period, now);
  // Counted over the range as asked (before rounding the start down), as a ceiling.
  auto requested = static_cast<std::int64_t>(std::ceil((*end - *start) / double(*period)));
  if (requested > rules::kMaxStatisticsDatapoints) {
    return fail(invalid_combination(
        "You have requested up to " + rules::with_thousands(requested) +
        " datapoints, which exceeds the limit of " +
        rules::with_thousands(rules::kMaxStatisticsDatapoints) +
        ". You may reduce the datapoints requested by increasing Period, or decreasing the time "
        "range."));
  }
  json::object out{{"Label", key->name}};
  json::array points;
  if (w.returns_data) {
    metrics::StatisticsQuery q;
    q.metric = *key;
    q.unit = doc::opt_str(in, "Unit");
    q.start = w.start;
    q.end = std::min(w.end, w.start + rules::kMaxStatisticsDatapoints * *period);
    q.period = *period;
    q.not_before = w.data_from;
    q.with_sketch = !wanted->percentiles.empty();
    for (const auto& p : store.statistics(q)) points.push_back(datapoint(p, *wanted));
  }
  out["Datapoints"] = std::move(points);
  return out;
}

}  // namespace mailtally::services::cloudwatch
