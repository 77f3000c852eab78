#include "metrics/store_support.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <stdexcept>

#include "base/crypto.hpp"

namespace mailtally::metrics::support {
namespace {

constexpr std::string_view kTokenPrefix = "mtlm-list:";

}  // namespace

void validate(const std::vector<Datum>& data) {
  for (std::size_t i = 0; i < data.size(); ++i) {
    const MetricKey& k = data[i].series.metric;
    if (k.dimensions.size() > kMaxDimensions || !storable(data[i].series)) {
      throw std::invalid_argument("metrics store: datum " + std::to_string(i + 1) +
                                  " has an unstorable key (control characters or more than 30 "
                                  "dimensions)");
    }
    if (!(std::fabs(data[i].timestamp) < kMaxTimestamp)) {
      throw std::invalid_argument("metrics store: datum " + std::to_string(i + 1) +
                                  " has an unusable timestamp");
    }
  }
}

std::int64_t floor_to(std::int64_t t, std::int64_t step) {
  std::int64_t r = t % step;
  return r < 0 ? t - r - step : t - r;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

Aggregate aggregate_of(const Datum& d) {
  Aggregate a;
  if (const auto* v = std::get_if<double>(&d.value)) {
    a.add_value(*v);
  } else if (const auto* list = std::get_if<ValueList>(&d.value)) {
    for (std::size_t i = 0; i < list->values.size(); ++i) {
      a.add_value(list->values[i], i < list->counts.size() ? list->counts[i] : 1.0);
    }
  } else {
    const auto& s = std::get<StatisticSet>(d.value);
    a.add_statistic_set(s.sample_count, s.sum, s.minimum, s.maximum);
  }
  return a;
}

std::int64_t resolution_for(std::int64_t start, std::int64_t period) {
  if (period % 60 != 0) return 1;
  for (std::int64_t r : {3600, 300, 60}) {
    if (period % r == 0 && start % r == 0) return r;
  }
  return 60;
}

std::string list_token(std::int64_t after_id) {
  return base::base64_encode(std::string(kTokenPrefix) + std::to_string(after_id));
}

std::optional<std::int64_t> parse_list_token(std::string_view token) {
  auto raw = base::base64_decode(token);
  if (!raw || raw->substr(0, kTokenPrefix.size()) != kTokenPrefix) return std::nullopt;
  std::string_view digits = std::string_view(*raw).substr(kTokenPrefix.size());
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || p != digits.data() + digits.size() || id < 0) return std::nullopt;
  return id;
}

PeriodBuckets::PeriodBuckets(const StatisticsQuery& q, std::int64_t from, const std::string& unit,
                             std::size_t expected)
    : q_(q), from_(from), unit_(unit) {
  out_.reserve(expected);
}

void PeriodBuckets::add(std::int64_t ts, const SlotView& s) {
  if (ts < from_ || ts >= q_.end || !(s.sample_count > 0)) return;
  const std::int64_t bucket = q_.start + floor_div(ts - q_.start, q_.period) * q_.period;
  if (out_.empty() || out_.back().timestamp != bucket) out_.push_back({bucket, unit_, {}});
  Aggregate& a = out_.back().aggregate;
  a.sample_count += s.sample_count;
  a.sum += s.sum;
  a.minimum = std::min(a.minimum, s.minimum);
  a.maximum = std::max(a.maximum, s.maximum);
  if (q_.with_sketch) {
    if (auto sk = Sketch::decode(s.sketch)) {
      a.sketch.merge(*sk);
    } else {
      a.sketch.mark_unavailable();
    }
  }
}

void merge_sorted(std::vector<PeriodStatistics> a, std::vector<PeriodStatistics> b,
                  std::vector<PeriodStatistics>& out) {
  if (out.empty() && b.empty()) {
    out = std::move(a);
    return;
  }
  out.reserve(out.size() + a.size() + b.size());
  auto ia = a.begin();
  auto ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    if (ib == b.end() || (ia != a.end() && ia->timestamp < ib->timestamp)) {
      out.push_back(std::move(*ia++));
    } else if (ia == a.end() || ib->timestamp < ia->timestamp) {
      out.push_back(std::move(*ib++));
    } else {
      ia->aggregate.merge(ib->aggregate);
      out.push_back(std::move(*ia++));
      ++ib;
    }
  }
}

void finish_units(const StatisticsQuery& q, std::size_t series,
                  std::vector<PeriodStatistics>& out) {
  if (series > 1) {
    if (q.merge_units) {
      std::map<std::int64_t, Aggregate> merged;
      for (auto& p : out) merged[p.timestamp].merge(p.aggregate);
      out.clear();
      for (auto& [ts, a] : merged) out.push_back({ts, {}, std::move(a)});
    } else {
      std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.unit < b.unit;
      });
    }
  }
  if (q.merge_units) {
    for (auto& p : out) p.unit.clear();
  }
}

std::size_t expected_periods(const StatisticsQuery& q) {
  return static_cast<std::size_t>(
      std::min<std::int64_t>((q.end - q.start + q.period - 1) / q.period, 1 << 16));
}

}  // namespace mailtally::metrics::support
