// Fuzzes the form / query-string decoder: never crashes; decoded keys stay sorted.
#include <cstdlib>

#include "wire/form.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool plus : {true, false}) {
    auto p = mailtally::wire::FormParams::parse(text, plus);
    if (!p) continue;
    const auto& items = p->items();
    for (std::size_t i = 1; i < items.size(); ++i) {
      if (items[i - 1].first > items[i].first) std::abort();
    }
    for (const auto& [k, v] : items) {
      if (!p->find(k)) std::abort();
      (void)p->prefix_range(k);
    }
  }
  return 0;
}
