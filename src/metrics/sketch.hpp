// A mergeable summary of a weighted multiset of values, from which percentiles are read.
//
// Accuracy: up to kExactLimit distinct values the sketch keeps them exactly (value, count), and
// percentiles are exact (nearest rank: the smallest value v such that at least p% of the
// samples are <= v). Beyond that it switches to a logarithmic histogram (as DDSketch): a value
// v > 0 falls in bucket ceil(log_gamma(v)) with gamma = (1 + a) / (1 - a), a = kRelativeAccuracy,
// so every percentile read back is within 1% (relative) of a true sample value of that rank.
// Zero has its own bucket. At most kMaxBuckets buckets are kept; past that the lowest ones
// are folded together (only the lowest percentiles then lose accuracy).
//
// CloudWatch rules carried here: percentiles are unavailable when any value is negative or a
// statistic set could not be turned into raw values (mark_unavailable()); unavailability
// survives merges.
//
// Thread-safety: a plain value; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtally::metrics {

class Sketch {
 public:
  static constexpr std::size_t kExactLimit = 64;
  static constexpr double kRelativeAccuracy = 0.01;
  static constexpr std::size_t kMaxBuckets = 2048;

  // Adds `count` (> 0) observations of `value`. A negative value makes percentiles
  // unavailable; non-finite values and non-positive counts are ignored.
  void add(double value, double count = 1);
  void mark_unavailable();
  void merge(const Sketch& other);

  bool available() const { return !unavailable_; }
  bool exact() const { return !bucketed_; }
  // Total observations held (0 when unavailable).
  double total() const;
  // The q-quantile, q in [0, 1]; nullopt when unavailable or empty.
  std::optional<double> quantile(double q) const;

  // A compact binary form for storage, and back (nullopt on malformed input).
  std::string encode() const;
  static std::optional<Sketch> decode(std::string_view bytes);

 private:
  void to_buckets();
  void add_bucketed(double value, double count);
  void fold_lowest();
  // Appends the buckets of ascending `values` to `out`; returns the count of zeros.
  static double bucket_list(const std::vector<std::pair<double, double>>& values,
                            std::vector<std::pair<std::int32_t, double>>& out);
  void merge_buckets(const std::vector<std::pair<std::int32_t, double>>& other);

  bool unavailable_ = false;
  bool bucketed_ = false;
  std::vector<std::pair<double, double>> exact_;          // (value, count), sorted by value
  double zero_count_ = 0;                                 // bucketed mode: observations of 0
  std::vector<std::pair<std::int32_t, double>> buckets_;  // (index, count), sorted by index
};

}  // namespace mailtally::metrics
