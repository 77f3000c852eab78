// The in-memory catalogue of every stored series, indexed for ingest (series key -> id) and
// for ListMetrics (by namespace + name, namespace, name, dimension name, dimension name and
// value; each list in paging order).
//
// A Metric groups the series of one namespace + name + dimension set (one per unit). Its id is
// its smallest series id, so ids grow with creation, survive restarts, and give ListMetrics a
// stable paging order whose token is just an id.
//
// Threading: not synchronized. The owner (SqliteMetricStore) guards it with a shared_mutex;
// only `last_put` is written under a shared lock (an atomic).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metrics/types.hpp"

namespace mailtally::metrics {

// "ns \x1f name \x1f (dim \x1e value \x1f)*" for a normalized key: unique per metric.
std::string canonical_metric(const MetricKey& key);
// The dimension part alone (stored in the series table) and back.
std::string encode_dimensions(const std::vector<Dimension>& dims);
std::vector<Dimension> decode_dimensions(std::string_view text);
// canonical_metric + "\x1d" + unit: unique per series.
std::string canonical_series(std::string_view canonical_metric, std::string_view unit);

// Hash and equality that accept std::string_view keys without building a std::string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

class Catalogue {
 public:
  struct Metric;
  struct Series {
    std::int64_t id = 0;
    std::string unit;
    Metric* metric = nullptr;
    std::atomic<std::int64_t> last_put{0};  // epoch seconds of the latest put
    std::int64_t persisted_last_put = 0;    // last value written to the database (writer only)
  };
  struct Metric {
    std::int64_t id = 0;
    MetricKey key;
    std::string canonical;
    std::vector<Series*> series;
    std::int64_t last_put() const;
  };

  // Adds a series (creating its metric if new). `id` must exceed every id added before.
  Series& add(std::int64_t id, const MetricKey& key, std::string canonical, std::string unit,
              std::int64_t last_put);
  void remove(std::int64_t series_id);

  Series* find_series(std::string_view canonical_series_key) const;
  // nullptr when no series has that id (never stored, or expired).
  const Series* series_by_id(std::int64_t id) const;
  const Metric* find_metric(std::string_view canonical) const;
  std::int64_t max_id() const { return max_id_; }
  std::size_t series_count() const { return series_.size(); }

  // Candidates for a listing, in id order: the shortest index list the filter selects (every
  // match is in it; the caller still applies the whole filter).
  const std::vector<Metric*>& candidates(const ListFilter& filter) const;
  // Series whose latest put is before `t`.
  std::vector<std::int64_t> series_idle_since(std::int64_t t) const;

 private:
  static void erase_from(StringMap<std::vector<Metric*>>& index, const std::string& key,
                         const Metric* m);

  std::int64_t max_id_ = 0;
  std::unordered_map<std::int64_t, std::unique_ptr<Series>> series_;
  StringMap<Series*> by_series_key_;
  StringMap<std::unique_ptr<Metric>> by_metric_key_;
  std::vector<Metric*> all_;  // id order
  StringMap<std::vector<Metric*>> by_ns_name_;
  StringMap<std::vector<Metric*>> by_ns_;
  StringMap<std::vector<Metric*>> by_name_;
  StringMap<std::vector<Metric*>> by_dimension_;        // dimension name
  StringMap<std::vector<Metric*>> by_dimension_value_;  // name \x1e value
  std::vector<Metric*> none_;
};

}  // namespace mailtally::metrics
