#include "metrics/sketch.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace mailtally::metrics {
namespace {

constexpr double kGamma = (1 + Sketch::kRelativeAccuracy) / (1 - Sketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);

constexpr std::uint8_t kFormat = 1;
constexpr std::uint8_t kFlagUnavailable = 1;
constexpr std::uint8_t kFlagBucketed = 2;

std::int32_t bucket_of(double v) {
  double i = std::ceil(std::log(v) / kLogGamma);
  return static_cast<std::int32_t>(std::clamp(i, -2.0e9, 2.0e9));
}

double bucket_value(std::int32_t i) { return 2 * std::pow(kGamma, i) / (kGamma + 1); }

// ---- encoding helpers ----

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_double(std::string& out, double d) {
  auto bits = std::bit_cast<std::uint64_t>(d);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

// Counts are usually small integers: tagged varint (n << 1), else tag 1 + raw double.
void put_count(std::string& out, double c) {
  if (c >= 0 && c < 4.0e15 && std::trunc(c) == c) {
    put_varint(out, static_cast<std::uint64_t>(c) << 1);
  } else {
    put_varint(out, 1);
    put_double(out, c);
  }
}

struct Reader {
  std::string_view in;
  bool ok = true;

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in.empty()) break;
      auto b = static_cast<std::uint8_t>(in.front());
      in.remove_prefix(1);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok = false;
    return 0;
  }
  double dbl() {
    if (in.size() < 8) {
      ok = false;
      return 0;
    }
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) {
      bits |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in[i])) << (8 * i);
    }
    in.remove_prefix(8);
    return std::bit_cast<double>(bits);
  }
  double count() {
    std::uint64_t tag = varint();
    if (tag == 1) return dbl();
    return static_cast<double>(tag >> 1);
  }
};

}  // namespace

void Sketch::add(double value, double count) {
  if (!std::isfinite(value) || !std::isfinite(count) || count <= 0) return;
  if (value < 0) {
    mark_unavailable();
    return;
  }
  if (unavailable_) return;
  if (bucketed_) {
    add_bucketed(value, count);
    return;
  }
  auto it = std::lower_bound(exact_.begin(), exact_.end(), value,
                             [](const auto& e, double v) { return e.first < v; });
  if (it != exact_.end() && it->first == value) {
    it->second += count;
    return;
  }
  exact_.insert(it, {value, count});
  if (exact_.size() > kExactLimit) to_buckets();
}

void Sketch::mark_unavailable() {
  unavailable_ = true;
  bucketed_ = false;
  exact_.clear();
  buckets_.clear();
  zero_count_ = 0;
}

void Sketch::merge(const Sketch& other) {
  if (other.unavailable_) {
    mark_unavailable();
    return;
  }
  if (unavailable_) return;
  if (!bucketed_ && !other.bucketed_) {
    // Both exact: one linear merge of the sorted value lists.
    std::vector<std::pair<double, double>> merged;
    merged.reserve(exact_.size() + other.exact_.size());
    auto a = exact_.begin();
    auto b = other.exact_.begin();
    while (a != exact_.end() || b != other.exact_.end()) {
      if (b == other.exact_.end() || (a != exact_.end() && a->first < b->first)) {
        merged.push_back(*a++);
      } else if (a == exact_.end() || b->first < a->first) {
        merged.push_back(*b++);
      } else {
        merged.emplace_back(a->first, a->second + b->second);
        ++a;
        ++b;
      }
    }
    exact_ = std::move(merged);
    if (exact_.size() > kExactLimit) to_buckets();
    return;
  }
  if (!bucketed_) to_buckets();
  if (other.bucketed_) {
    zero_count_ += other.zero_count_;
    merge_buckets(other.buckets_);
  } else {
    std::vector<std::pair<std::int32_t, double>> theirs;
    zero_count_ += bucket_list(other.exact_, theirs);
    merge_buckets(theirs);
  }
}

double Sketch::bucket_list(const std::vector<std::pair<double, double>>& values,
                           std::vector<std::pair<std::int32_t, double>>& out) {
  double zeros = 0;
  for (const auto& [v, c] : values) {
    if (v == 0) {
      zeros += c;
      continue;
    }
    std::int32_t i = bucket_of(v);
    if (!out.empty() && out.back().first == i) {
      out.back().second += c;
    } else {
      out.emplace_back(i, c);  // values ascend, so indices do too
    }
  }
  return zeros;
}

void Sketch::merge_buckets(const std::vector<std::pair<std::int32_t, double>>& other) {
  std::vector<std::pair<std::int32_t, double>> merged;
  merged.reserve(buckets_.size() + other.size());
  auto a = buckets_.begin();
  auto b = other.begin();
  while (a != buckets_.end() || b != other.end()) {
    if (b == other.end() || (a != buckets_.end() && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == buckets_.end() || b->first < a->first) {
      merged.push_back(*b++);
    } else {
      merged.emplace_back(a->first, a->second + b->second);
      ++a;
      ++b;
    }
  }
  buckets_ = std::move(merged);
  fold_lowest();
}

double Sketch::total() const {
  if (unavailable_) return 0;
  double n = 0;
  if (bucketed_) {
    n = zero_count_;
    for (const auto& b : buckets_) n += b.second;
  } else {
    for (const auto& e : exact_) n += e.second;
  }
  return n;
}

std::optional<double> Sketch::quantile(double q) const {
  double n = total();
  if (n <= 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank: the first value whose cumulative count reaches q * n (at least one sample).
  double target = std::max(q * n, std::numeric_limits<double>::min()) * (1 - 1e-12);
  double cum = 0;
  if (!bucketed_) {
    for (const auto& [v, c] : exact_) {
      cum += c;
      if (cum >= target) return v;
    }
    return exact_.back().first;
  }
  cum = zero_count_;
  if (cum >= target && zero_count_ > 0) return 0.0;
  for (const auto& [i, c] : buckets_) {
    cum += c;
    if (cum >= target) return bucket_value(i);
  }
  return buckets_.empty() ? 0.0 : bucket_value(buckets_.back().first);
}

void Sketch::to_buckets() {
  bucketed_ = true;
  buckets_.clear();
  zero_count_ = bucket_list(exact_, buckets_);
  exact_.clear();
  fold_lowest();
}

void Sketch::add_bucketed(double value, double count) {
  if (value == 0) {
    zero_count_ += count;
    return;
  }
  std::int32_t i = bucket_of(value);
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), i,
                             [](const auto& e, std::int32_t k) { return e.first < k; });
  if (it != buckets_.end() && it->first == i) {
    it->second += count;
    return;
  }
  buckets_.insert(it, {i, count});
  fold_lowest();
}

void Sketch::fold_lowest() {
  if (buckets_.size() <= kMaxBuckets) return;
  std::size_t excess = buckets_.size() - kMaxBuckets;
  double folded = 0;
  for (std::size_t k = 0; k <= excess; ++k) folded += buckets_[k].second;
  buckets_[excess].second = folded;
  buckets_.erase(buckets_.begin(), buckets_.begin() + static_cast<std::ptrdiff_t>(excess));
}

std::string Sketch::encode() const {
  std::string out;
  out.push_back(static_cast<char>(kFormat));
  std::uint8_t flags = (unavailable_ ? kFlagUnavailable : 0) | (bucketed_ ? kFlagBucketed : 0);
  out.push_back(static_cast<char>(flags));
  if (unavailable_) return out;
  if (!bucketed_) {
    put_varint(out, exact_.size());
    for (const auto& [v, c] : exact_) {
      put_double(out, v);
      put_count(out, c);
    }
    return out;
  }
  put_count(out, zero_count_);
  put_varint(out, buckets_.size());
  std::int64_t prev = 0;
  for (const auto& [i, c] : buckets_) {
    std::int64_t delta = static_cast<std::int64_t>(i) - prev;
    prev = i;
    put_varint(out,
               (static_cast<std::uint64_t>(delta) << 1) ^ static_cast<std::uint64_t>(delta >> 63));
    put_count(out, c);
  }
  return out;
}

std::optional<Sketch> Sketch::decode(std::string_view bytes) {
  if (bytes.size() < 2 || static_cast<std::uint8_t>(bytes[0]) != kFormat) return std::nullopt;
  auto flags = static_cast<std::uint8_t>(bytes[1]);
  Reader r{bytes.substr(2)};
  Sketch s;
  if (flags & kFlagUnavailable) {
    s.unavailable_ = true;
    return r.in.empty() ? std::optional<Sketch>(s) : std::nullopt;
  }
  if (flags & kFlagBucketed) {
    s.bucketed_ = true;
    s.zero_count_ = r.count();
    std::uint64_t n = r.varint();
    if (!r.ok || n > kMaxBuckets) return std::nullopt;
    std::int64_t prev = 0;
    for (std::uint64_t k = 0; k < n && r.ok; ++k) {
      std::uint64_t z = r.varint();
      auto delta = static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
      prev += delta;
      double c = r.count();
      if (prev < INT32_MIN || prev > INT32_MAX) return std::nullopt;
      if (!s.buckets_.empty() && s.buckets_.back().first >= prev) return std::nullopt;
      s.buckets_.emplace_back(static_cast<std::int32_t>(prev), c);
    }
  } else {
    std::uint64_t n = r.varint();
    if (!r.ok || n > kExactLimit) return std::nullopt;
    for (std::uint64_t k = 0; k < n && r.ok; ++k) {
      double v = r.dbl();
      double c = r.count();
      if (!s.exact_.empty() && !(s.exact_.back().first < v)) return std::nullopt;
      s.exact_.emplace_back(v, c);
    }
  }
  if (!r.ok || !r.in.empty()) return std::nullopt;
  return s;
}

}  // namespace mailtally::metrics
