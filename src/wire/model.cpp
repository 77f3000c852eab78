#include "wire/model.hpp"

#include <algorithm>

namespace mailtally::wire {

const Operation* Service::find_operation(std::string_view name) const {
  auto it = std::lower_bound(operations.begin(), operations.end(), name,
                             [](const Operation& op, std::string_view n) { return op.name < n; });
  return it != operations.end() && it->name == name ? &*it : nullptr;
}

const Shape* Service::find_shape(std::string_view name) const {
  for (const auto& s : shapes) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const Shape* Service::find_error(std::string_view name_or_code) const {
  for (const auto& s : shapes) {
    if (s.is_error && (s.name == name_or_code || s.error_code == name_or_code)) return &s;
  }
  return nullptr;
}

std::span<const Service* const> all_models() {
  static const Service* const kAll[] = {&ses_v1_model(), &ses_v2_model(), &cloudwatch_model(),
                                        &sns_model()};
  return kAll;
}

}  // namespace mailtally::wire
