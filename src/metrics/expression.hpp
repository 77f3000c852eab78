// Metric math for GetMetricData: a parser and evaluator for the subset of CloudWatch's
// expression language mailtally supports.
//
// Grammar (whitespace ignored):
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := ('-' | '+') unary | power
//   power   := primary ('^' unary)?
//   primary := NUMBER | ID | FUNCTION '(' [expr (',' expr)*] ')' | '(' expr ')'
//            | '[' expr (',' expr)* ']'
//   ID      := a query id ([a-z][A-Za-z0-9_]*); FUNCTION: SUM AVG MIN MAX METRICS
// Anything else (other functions, strings, Metrics Insights SELECT) is refused with a message
// saying what is supported.
//
// Semantics (as CloudWatch documents them): a value is a scalar, a time series, or an array of
// time series. Arithmetic applies point by point; two series combine at the timestamps both
// have; an array combines element-wise with a scalar or a series. SUM/AVG/MIN/MAX of one series
// is a scalar over its values; of an array (e.g. SUM([m1, m2]) or SUM(METRICS())), or of
// several arguments, a series holding the aggregate at every timestamp any element has.
// Points whose result is NaN or infinite (e.g. division by zero) are dropped.
//
// Thread-safety: Expression is immutable after parse(); evaluate() is pure over its inputs.
// Recursion is bounded (kMaxDepth), so hostile input cannot exhaust the stack.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/expected.hpp"

namespace mailtally::metrics::expr {

inline constexpr int kMaxDepth = 200;
inline constexpr std::size_t kMaxLength = 2048;

// Ascending timestamps (epoch seconds) with one value each.
struct Series {
  std::vector<std::int64_t> timestamps;
  std::vector<double> values;
  std::string label;
};

using Value = std::variant<double, Series, std::vector<Series>>;

// What an expression can refer to.
class Environment {
 public:
  virtual ~Environment() = default;
  // The result of query `id`: one series (a metric) or several (an array expression); nullptr
  // when there is no such query.
  virtual const std::vector<Series>* lookup(std::string_view id) const = 0;
  // Every metric (MetricStat) query's series, for METRICS().
  virtual std::vector<Series> all_metrics() const = 0;
};

struct Node;

class Expression {
 public:
  // Parses `text`; the error message says where and what went wrong.
  static base::Expected<Expression, std::string> parse(std::string_view text);

  // Query ids the expression names, in order of first appearance.
  const std::vector<std::string>& references() const { return references_; }
  // true when it calls METRICS() (depends on every metric query).
  bool uses_all_metrics() const { return uses_all_metrics_; }

  base::Expected<Value, std::string> evaluate(const Environment& env) const;

 private:
  std::shared_ptr<const Node> root_;
  std::vector<std::string> references_;
  bool uses_all_metrics_ = false;
};

}  // namespace mailtally::metrics::expr
