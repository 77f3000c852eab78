// Fuzzes the metric math parser and evaluator (metrics/expression.hpp): never crashes, never
// recurses without bound; whatever parses evaluates (to a value or a clear error) over a small
// environment, and every reference it reports appears in the text.
#include <cstdlib>
#include <map>
#include <string>

#include "metrics/expression.hpp"

namespace {

using namespace mailtally::metrics::expr;

class Env final : public Environment {
 public:
  Env() {
    results_["m1"] = {Series{{0, 60, 120}, {1, 2, 3}, "m1"}};
    results_["m2"] = {Series{{60, 120, 180}, {10, 0, -30}, "m2"}};
    results_["e1"] = {Series{{0}, {5}, "a"}, Series{{0, 60}, {1, 1}, "b"}};
    results_["empty"] = {Series{}};
  }
  const std::vector<Series>* lookup(std::string_view id) const override {
    auto it = results_.find(id);
    return it == results_.end() ? nullptr : &it->second;
  }
  std::vector<Series> all_metrics() const override {
    return {results_.at("m1").front(), results_.at("m2").front()};
  }

 private:
  std::map<std::string, std::vector<Series>, std::less<>> results_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto e = Expression::parse(text);
  if (!e) {
    if (e.error().empty()) std::abort();
    return 0;
  }
  for (const auto& ref : e->references()) {
    if (text.find(ref) == std::string_view::npos) std::abort();
  }
  static const Env env;
  auto v = e->evaluate(env);
  if (!v && v.error().empty()) std::abort();
  if (v) {
    if (const auto* s = std::get_if<Series>(&*v)) {
      if (s->timestamps.size() != s->values.size()) std::abort();
    }
  }
  return 0;
}
