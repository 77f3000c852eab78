#include "wire/form.hpp"

#include <algorithm>

namespace mailtally::wire {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<FormParams> FormParams::parse(std::string_view text, bool plus_is_space) {
  FormParams p;
  while (!text.empty()) {
    auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), plus_is_space);
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), plus_is_space);
    if (!key || !value) return std::nullopt;
    p.items_.emplace_back(std::move(*key), std::move(*value));
  }
  p.sort();
  return p;
}

void FormParams::merge(const FormParams& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
  sort();
}

void FormParams::sort() {
  std::stable_sort(items_.begin(), items_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

const std::string* FormParams::find(std::string_view key) const {
  auto it = std::lower_bound(items_.begin(), items_.end(), key,
                             [](const auto& p, std::string_view k) { return p.first < k; });
  return it != items_.end() && it->first == key ? &it->second : nullptr;
}

std::pair<std::size_t, std::size_t> FormParams::prefix_range(std::string_view prefix) const {
  auto first = std::lower_bound(items_.begin(), items_.end(), prefix,
                                [](const auto& p, std::string_view k) { return p.first < k; });
  auto last = first;
  while (last != items_.end() && std::string_view(last->first).substr(0, prefix.size()) == prefix) {
    ++last;
  }
  return {static_cast<std::size_t>(first - items_.begin()),
          static_cast<std::size_t>(last - items_.begin())};
}

bool FormParams::has_prefix(std::string_view prefix) const {
  auto [a, b] = prefix_range(prefix);
  return a != b;
}

}  // namespace mailtally::wire
