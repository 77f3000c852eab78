// CloudWatch statistic names and how each is read from an Aggregate.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "metrics/aggregate.hpp"

namespace mailtally::metrics {

enum class StatKind { SampleCount, Average, Sum, Minimum, Maximum, Percentile };

struct Statistic {
  StatKind kind = StatKind::Sum;
  double percentile = 0;  // 0..100, for StatKind::Percentile
  std::string name;       // as requested ("Sum", "p99.5")
};

// A percentile name: 'p' then 0..100 with at most two decimals ("p99", "p99.50", "p0.0",
// "p100"). nullopt otherwise.
std::optional<Statistic> parse_percentile(std::string_view name);
// One of SampleCount, Average, Sum, Minimum, Maximum, or a percentile.
std::optional<Statistic> parse_statistic(std::string_view name);

// The statistic's value over `a`; nullopt when `a` is empty or the percentile is unavailable.
std::optional<double> statistic_value(const Aggregate& a, const Statistic& s);

}  // namespace mailtally::metrics
