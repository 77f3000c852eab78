#include "metrics/catalogue.hpp"

#include <algorithm>

namespace mailtally::metrics {
namespace {

constexpr char kField = '\x1f';
constexpr char kPair = '\x1e';
constexpr char kUnit = '\x1d';

std::string pair_key(std::string_view name, std::string_view value) {
  std::string k;
  k.reserve(name.size() + value.size() + 1);
  k.append(name).push_back(kPair);
  k.append(value);
  return k;
}

std::string ns_name_key(std::string_view ns, std::string_view name) {
  std::string k;
  k.reserve(ns.size() + name.size() + 1);
  k.append(ns).push_back(kField);
  k.append(name);
  return k;
}

}  // namespace

std::string encode_dimensions(const std::vector<Dimension>& dims) {
  std::string out;
  for (const auto& d : dims) {
    out.append(d.name).push_back(kPair);
    out.append(d.value).push_back(kField);
  }
  return out;
}

std::vector<Dimension> decode_dimensions(std::string_view text) {
  std::vector<Dimension> dims;
  while (!text.empty()) {
    std::size_t end = text.find(kField);
    std::string_view pair = text.substr(0, end);
    std::size_t sep = pair.find(kPair);
    if (sep == std::string_view::npos) break;
    dims.push_back({std::string(pair.substr(0, sep)), std::string(pair.substr(sep + 1))});
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return dims;
}

std::string canonical_metric(const MetricKey& key) {
  std::string out = ns_name_key(key.ns, key.name);
  out.push_back(kField);
  out.append(encode_dimensions(key.dimensions));
  return out;
}

std::string canonical_series(std::string_view canonical_metric, std::string_view unit) {
  std::string out;
  out.reserve(canonical_metric.size() + unit.size() + 1);
  out.append(canonical_metric).push_back(kUnit);
  out.append(unit);
  return out;
}

std::int64_t Catalogue::Metric::last_put() const {
  std::int64_t t = 0;
  for (const Series* s : series) t = std::max(t, s->last_put.load(std::memory_order_relaxed));
  return t;
}

Catalogue::Series& Catalogue::add(std::int64_t id, const MetricKey& key, std::string canonical,
                                  std::string unit, std::int64_t last_put) {
  auto& slot = by_metric_key_[canonical];
  if (!slot) {
    slot = std::make_unique<Metric>();
    slot->id = id;
    slot->key = key;
    slot->canonical = canonical;
    Metric* m = slot.get();
    all_.push_back(m);
    by_ns_name_[ns_name_key(key.ns, key.name)].push_back(m);
    by_ns_[key.ns].push_back(m);
    by_name_[key.name].push_back(m);
    for (const auto& d : key.dimensions) {
      by_dimension_[d.name].push_back(m);
      by_dimension_value_[pair_key(d.name, d.value)].push_back(m);
    }
  }
  auto series = std::make_unique<Series>();
  series->id = id;
  series->unit = std::move(unit);
  series->metric = slot.get();
  series->last_put.store(last_put, std::memory_order_relaxed);
  series->persisted_last_put = last_put;
  Series& s = *series;
  slot->series.push_back(&s);
  by_series_key_[canonical_series(canonical, s.unit)] = &s;
  series_[id] = std::move(series);
  max_id_ = std::max(max_id_, id);
  return s;
}

void Catalogue::erase_from(StringMap<std::vector<Metric*>>& index, const std::string& key,
                           const Metric* m) {
  auto found = index.find(key);
  if (found == index.end()) return;
  auto& v = found->second;
  auto it = std::lower_bound(v.begin(), v.end(), m->id,
                             [](const Metric* a, std::int64_t id) { return a->id < id; });
  if (it != v.end() && *it == m) v.erase(it);
  if (v.empty()) index.erase(found);
}

void Catalogue::remove(std::int64_t series_id) {
  auto it = series_.find(series_id);
  if (it == series_.end()) return;
  Series* s = it->second.get();
  Metric* m = s->metric;
  by_series_key_.erase(canonical_series(m->canonical, s->unit));
  std::erase(m->series, s);
  if (m->series.empty()) {
    auto it_all = std::lower_bound(all_.begin(), all_.end(), m->id,
                                   [](const Metric* a, std::int64_t id) { return a->id < id; });
    if (it_all != all_.end() && *it_all == m) all_.erase(it_all);
    erase_from(by_ns_name_, ns_name_key(m->key.ns, m->key.name), m);
    erase_from(by_ns_, m->key.ns, m);
    erase_from(by_name_, m->key.name, m);
    for (const auto& d : m->key.dimensions) {
      erase_from(by_dimension_, d.name, m);
      erase_from(by_dimension_value_, pair_key(d.name, d.value), m);
    }
    by_metric_key_.erase(m->canonical);  // destroys m
  }
  series_.erase(it);
}

Catalogue::Series* Catalogue::find_series(std::string_view key) const {
  auto it = by_series_key_.find(key);
  return it == by_series_key_.end() ? nullptr : it->second;
}

const Catalogue::Metric* Catalogue::find_metric(std::string_view canonical) const {
  auto it = by_metric_key_.find(canonical);
  return it == by_metric_key_.end() ? nullptr : it->second.get();
}

const Catalogue::Series* Catalogue::series_by_id(std::int64_t id) const {
  auto it = series_.find(id);
  return it == series_.end() ? nullptr : it->second.get();
}

const std::vector<Catalogue::Metric*>& Catalogue::candidates(const ListFilter& f) const {
  const std::vector<Metric*>* best = &all_;
  auto consider = [&](const StringMap<std::vector<Metric*>>& index, const std::string& key) {
    auto it = index.find(key);
    const std::vector<Metric*>* list = it == index.end() ? &none_ : &it->second;
    if (list->size() < best->size()) best = list;
  };
  if (f.ns && f.name) consider(by_ns_name_, ns_name_key(*f.ns, *f.name));
  if (f.ns) consider(by_ns_, *f.ns);
  if (f.name) consider(by_name_, *f.name);
  for (const auto& d : f.dimensions) {
    if (d.value) {
      consider(by_dimension_value_, pair_key(d.name, *d.value));
    } else {
      consider(by_dimension_, d.name);
    }
  }
  return *best;
}

std::vector<std::int64_t> Catalogue::series_idle_since(std::int64_t t) const {
  std::vector<std::int64_t> ids;
  for (const auto& [id, s] : series_) {
    if (s->last_put.load(std::memory_order_relaxed) < t) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace mailtally::metrics
