#include "metrics/types.hpp"

#include <algorithm>

namespace mailtally::metrics {
namespace {

bool clean(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

bool storable(const SeriesKey& key) { return clean(key.unit) && storable(key.metric); }

void normalize(MetricKey& key) {
  std::stable_sort(key.dimensions.begin(), key.dimensions.end(),
                   [](const Dimension& a, const Dimension& b) { return a.name < b.name; });
}

bool storable(const MetricKey& key) {
  if (!clean(key.ns) || !clean(key.name)) return false;
  return std::all_of(key.dimensions.begin(), key.dimensions.end(),
                     [](const Dimension& d) { return clean(d.name) && clean(d.value); });
}

}  // namespace mailtally::metrics
