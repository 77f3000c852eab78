// The metrics store's vocabulary: series identities, datums, and the shapes of queries and
// their answers. Plain values, no I/O; protocol-free (no JSON, no SQL).
//
// A *metric* is namespace + metric name + full dimension set (CloudWatch's identity); a *series*
// is a metric plus a unit, because CloudWatch aggregates data of different units separately.
// Dimension sets are kept sorted by name (see normalize()); two dimension lists that differ
// only in order name the same metric.
//
// Strings in keys may hold any bytes except ASCII control characters (0x00-0x1f, 0x7f); the
// store refuses keys that break this (std::invalid_argument). The API layer applies
// CloudWatch's own, stricter, rules before it gets here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "metrics/aggregate.hpp"

namespace mailtally::metrics {

inline constexpr std::size_t kMaxDimensions = 30;
inline constexpr std::string_view kNoUnit = "None";  // CloudWatch's unit when none is given

struct Dimension {
  std::string name;
  std::string value;
  friend bool operator==(const Dimension&, const Dimension&) = default;
};

struct MetricKey {
  std::string ns;                     // namespace
  std::string name;                   // metric name
  std::vector<Dimension> dimensions;  // sorted by name once normalized
  friend bool operator==(const MetricKey&, const MetricKey&) = default;
};

struct SeriesKey {
  MetricKey metric;
  std::string unit{kNoUnit};  // a CloudWatch StandardUnit name
  friend bool operator==(const SeriesKey&, const SeriesKey&) = default;
};

// Sorts the dimensions by name (stable for equal names, which the API refuses anyway).
void normalize(MetricKey& key);
// true when every string of the key is free of ASCII control characters.
bool storable(const MetricKey& key);
bool storable(const SeriesKey& key);

// PutMetricData's Values + Counts: value[i] observed counts[i] times (counts default 1).
struct ValueList {
  std::vector<double> values;
  std::vector<double> counts;  // empty, or values.size() entries
};

struct StatisticSet {
  double sample_count = 0;
  double sum = 0;
  double minimum = 0;
  double maximum = 0;
};

// One PutMetricData datum (or one datapoint of the SES publishing path).
struct Datum {
  SeriesKey series;
  double timestamp = 0;  // epoch seconds
  std::variant<double, ValueList, StatisticSet> value = 0.0;
  int storage_resolution = 60;  // 1 (high resolution) or 60
};

// Atomically advances a named cursor together with a put() (exactly-once publishing: the
// caller stores "applied up to event N" in the same transaction as the datapoints).
struct CursorAdvance {
  std::string name;
  std::int64_t position = 0;
};

// ---- ListMetrics ----

struct DimensionFilter {
  std::string name{};
  std::optional<std::string> value{};  // nullopt: any value
};

struct ListFilter {
  std::optional<std::string> ns{};
  std::optional<std::string> name{};
  std::vector<DimensionFilter> dimensions{};  // every filter must match one of the dimensions
  bool recently_active = false;               // only metrics with data put in the last 3 hours
  std::optional<std::string> next_token{};    // from a previous page
  std::size_t page_size = 500;
};

struct MetricPage {
  std::vector<MetricKey> metrics;
  std::optional<std::string> next_token;  // present when more metrics match
};

enum class ListError { InvalidNextToken };

// ---- statistics ----

// Per-period aggregates of one metric (EXACT dimension match), optionally one unit only.
struct StatisticsQuery {
  MetricKey metric{};                 // dimensions must equal the stored set (any order)
  std::optional<std::string> unit{};  // nullopt: every unit
  std::int64_t start = 0;             // inclusive, epoch seconds, already rounded by the caller
  std::int64_t end = 0;               // exclusive
  std::int64_t period = 60;           // seconds, > 0
  std::int64_t not_before = 0;        // data stamped earlier is left out (expired retention)
  bool with_sketch = false;           // also read what percentiles need (slower)
  bool merge_units = false;           // one aggregate per period across units (unit left empty)
};

struct PeriodStatistics {
  std::int64_t timestamp = 0;  // start of the period
  std::string unit;            // the series' unit (empty with merge_units)
  Aggregate aggregate;
};

// What compact() removed.
struct CompactionReport {
  std::int64_t rows_packed = 0;  // recent rows moved into chunks
  std::int64_t rows_deleted = 0;
  std::int64_t series_expired = 0;
};

}  // namespace mailtally::metrics
