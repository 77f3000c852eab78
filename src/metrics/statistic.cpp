#include "metrics/statistic.hpp"

#include <cctype>

namespace mailtally::metrics {

std::optional<Statistic> parse_percentile(std::string_view name) {
  if (name.size() < 2 || name[0] != 'p') return std::nullopt;
  std::string_view num = name.substr(1);
  std::size_t dot = num.find('.');
  std::string_view whole = num.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : num.substr(dot + 1);
  if (whole.empty() || whole.size() > 3) return std::nullopt;
  if (dot != std::string_view::npos && (frac.empty() || frac.size() > 2)) return std::nullopt;
  double value = 0;
  for (char c : whole) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  double scale = 0.1;
  for (char c : frac) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value += (c - '0') * scale;
    scale /= 10;
  }
  if (value > 100) return std::nullopt;
  return Statistic{StatKind::Percentile, value, std::string(name)};
}

std::optional<Statistic> parse_statistic(std::string_view name) {
  static constexpr std::pair<std::string_view, StatKind> kNamed[] = {
      {"SampleCount", StatKind::SampleCount},
      {"Average", StatKind::Average},
      {"Sum", StatKind::Sum},
      {"Minimum", StatKind::Minimum},
      {"Maximum", StatKind::Maximum},
  };
  for (const auto& [n, k] : kNamed) {
    if (n == name) return Statistic{k, 0, std::string(name)};
  }
  return parse_percentile(name);
}

std::optional<double> statistic_value(const Aggregate& a, const Statistic& s) {
  if (a.empty()) return std::nullopt;
  switch (s.kind) {
    case StatKind::SampleCount:
      return a.sample_count;
    case StatKind::Average:
      return a.average();
    case StatKind::Sum:
      return a.sum;
    case StatKind::Minimum:
      return a.minimum;
    case StatKind::Maximum:
      return a.maximum;
    case StatKind::Percentile:
      return a.percentile(s.percentile);
  }
  return std::nullopt;
}

}  // namespace mailtally::metrics
