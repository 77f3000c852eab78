#include "metrics/rules.hpp"

#include <algorithm>
#include <cmath>

namespace mailtally::metrics::rules {
namespace {

std::int64_t floor_to(std::int64_t t, std::int64_t step) {
  std::int64_t r = t % step;
  return r < 0 ? t - r - step : t - r;
}

}  // namespace

bool valid_period(std::int64_t period) {
  if (period <= 0) return false;
  return period == 1 || period == 5 || period == 10 || period == 30 || period % 60 == 0;
}

Window round_window(double start, double end, std::int64_t period, std::int64_t now) {
  Window w;
  auto s = static_cast<std::int64_t>(std::floor(start));
  w.end = static_cast<std::int64_t>(std::ceil(end));
  const std::int64_t age = now - s;
  if (period < kMinute) {
    w.start = floor_to(s, std::max<std::int64_t>(period, 1));
  } else if (age < kMinuteRetention) {
    w.start = floor_to(s, kMinute);
  } else if (age < kFiveMinuteRetention) {
    w.start = floor_to(s, 5 * kMinute);
  } else {
    w.start = floor_to(s, kHour);
  }

  if (age > kFiveMinuteRetention) {
    w.returns_data = period % kHour == 0;
  } else if (age > kMinuteRetention) {
    w.returns_data = period % (5 * kMinute) == 0;
  } else if (age > kSecondRetention) {
    w.returns_data = period % kMinute == 0;
  }

  std::int64_t retention = period < kMinute ? kSecondRetention : kHourRetention;
  w.data_from = std::max(w.start, now - retention);
  return w;
}

std::int64_t datapoints_requested(const Window& w, std::int64_t period) {
  if (w.end <= w.start || period <= 0) return 0;
  return (w.end - w.start + period - 1) / period;
}

std::string with_thousands(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  int k = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (k > 0 && k % 3 == 0) out.push_back(',');
    out.push_back(*it);
    ++k;
  }
  if (n < 0) out.push_back('-');
  return {out.rbegin(), out.rend()};
}

}  // namespace mailtally::metrics::rules
