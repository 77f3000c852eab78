#include "metrics/aggregate.hpp"

#include <algorithm>
#include <cmath>

namespace mailtally::metrics {

void Aggregate::add_value(double value, double count) {
  if (!(count > 0) || !std::isfinite(value)) return;
  sample_count += count;
  sum += value * count;
  minimum = std::min(minimum, value);
  maximum = std::max(maximum, value);
  sketch.add(value, count);
}

void Aggregate::add_statistic_set(double n, double s, double lo, double hi) {
  if (!(n > 0)) return;
  sample_count += n;
  sum += s;
  minimum = std::min(minimum, lo);
  maximum = std::max(maximum, hi);
  if (n == 1 || lo == hi) {
    sketch.add(n == 1 ? s : lo, n);
  } else {
    sketch.mark_unavailable();
  }
}

void Aggregate::merge(const Aggregate& other) {
  if (other.empty()) return;
  sample_count += other.sample_count;
  sum += other.sum;
  minimum = std::min(minimum, other.minimum);
  maximum = std::max(maximum, other.maximum);
  sketch.merge(other.sketch);
}

std::optional<double> Aggregate::percentile(double p) const {
  if (empty()) return std::nullopt;
  auto q = sketch.quantile(p / 100.0);
  if (!q) return std::nullopt;
  return std::clamp(*q, minimum, maximum);
}

}  // namespace mailtally::metrics
