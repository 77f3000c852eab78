// The statistics of a set of samples over some time span: CloudWatch's SampleCount, Sum,
// Minimum, Maximum, plus a Sketch for percentiles. Mergeable, so minute aggregates roll up into
// 5-minute and hourly ones and into any query period.
//
// Thread-safety: a plain value.
#pragma once

#include <limits>
#include <optional>

#include "metrics/sketch.hpp"

namespace mailtally::metrics {

struct Aggregate {
  double sample_count = 0;
  double sum = 0;
  double minimum = std::numeric_limits<double>::infinity();
  double maximum = -std::numeric_limits<double>::infinity();
  Sketch sketch;

  bool empty() const { return !(sample_count > 0); }

  // `count` (> 0) observations of `value`.
  void add_value(double value, double count = 1);
  // A pre-aggregated statistic set. Percentiles stay available only when the set describes
  // identical values (SampleCount 1, or Minimum == Maximum), as CloudWatch documents.
  void add_statistic_set(double sample_count, double sum, double minimum, double maximum);
  void merge(const Aggregate& other);

  double average() const { return sample_count > 0 ? sum / sample_count : 0; }
  // The p-th percentile, p in [0, 100], clamped to [minimum, maximum]; nullopt when the sketch
  // is unavailable or was not loaded.
  std::optional<double> percentile(double p) const;
};

}  // namespace mailtally::metrics
