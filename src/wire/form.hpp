// application/x-www-form-urlencoded and URL query strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtally::wire {

// Decoded key/value pairs, sorted by key (stable for equal keys), so that every parameter below a
// prefix ("Tags.member.") is a contiguous range.
class FormParams {
 public:
  // Parses and decodes; `plus_is_space` for form bodies. nullopt on a malformed %-escape.
  static std::optional<FormParams> parse(std::string_view text, bool plus_is_space);
  void merge(const FormParams& other);

  const std::string* find(std::string_view key) const;
  bool has_prefix(std::string_view prefix) const;
  // [first, last) of the pairs whose key starts with `prefix`.
  std::pair<std::size_t, std::size_t> prefix_range(std::string_view prefix) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  std::size_t size() const { return items_.size(); }

 private:
  void sort();
  std::vector<std::pair<std::string, std::string>> items_;
};

// Percent-decodes; nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

}  // namespace mailtally::wire
