// Metric math: parsing (precedence, errors) and evaluation over series, arrays and scalars.
#include <gtest/gtest.h>

#include <map>

#include "metrics/expression.hpp"

namespace mailtally::metrics::expr {
namespace {

Series series(std::vector<std::int64_t> ts, std::vector<double> values, std::string label = "") {
  return Series{std::move(ts), std::move(values), std::move(label)};
}

class Env : public Environment {
 public:
  std::map<std::string, std::vector<Series>, std::less<>> results;
  std::vector<std::string> metric_ids;
  const std::vector<Series>* lookup(std::string_view id) const override {
    auto it = results.find(id);
    return it == results.end() ? nullptr : &it->second;
  }
  std::vector<Series> all_metrics() const override {
    std::vector<Series> out;
    for (const auto& id : metric_ids) out.push_back(results.at(id).front());
    return out;
  }
};

Env standard_env() {
  Env env;
  env.results["m1"] = {series({0, 60, 120}, {1, 2, 3}, "m1")};
  env.results["m2"] = {series({60, 120, 180}, {10, 0, 30}, "m2")};
  env.metric_ids = {"m1", "m2"};
  return env;
}

Value eval(std::string_view text, const Env& env) {
  auto e = Expression::parse(text);
  EXPECT_TRUE(e.has_value()) << text << ": " << (e ? "" : e.error());
  auto v = e->evaluate(env);
  EXPECT_TRUE(v.has_value()) << text << ": " << (v ? "" : v.error());
  return *v;
}

double scalar(std::string_view text) { return std::get<double>(eval(text, Env{})); }

TEST(Expression, ArithmeticPrecedence) {
  EXPECT_DOUBLE_EQ(scalar("1 + 2 * 3"), 7);
  EXPECT_DOUBLE_EQ(scalar("(1 + 2) * 3"), 9);
  EXPECT_DOUBLE_EQ(scalar("10 - 4 - 3"), 3);
  EXPECT_DOUBLE_EQ(scalar("8 / 4 / 2"), 1);
  EXPECT_DOUBLE_EQ(scalar("-2 ^ 2"), -4);
  EXPECT_DOUBLE_EQ(scalar("2 ^ 3 * 2"), 16);
  EXPECT_DOUBLE_EQ(scalar("1.5e2 + .5"), 150.5);
}

TEST(Expression, SeriesWithScalar) {
  Env env = standard_env();
  auto s = std::get<Series>(eval("m1 * 100", env));
  EXPECT_EQ(s.timestamps, (std::vector<std::int64_t>{0, 60, 120}));
  EXPECT_EQ(s.values, (std::vector<double>{100, 200, 300}));
  auto neg = std::get<Series>(eval("-m1", env));
  EXPECT_EQ(neg.values, (std::vector<double>{-1, -2, -3}));
}

TEST(Expression, TwoSeriesCombineWhereBothHaveData) {
  Env env = standard_env();
  auto sum = std::get<Series>(eval("m1 + m2", env));
  EXPECT_EQ(sum.timestamps, (std::vector<std::int64_t>{60, 120}));
  EXPECT_EQ(sum.values, (std::vector<double>{12, 3}));
  // Division by zero drops the point.
  auto ratio = std::get<Series>(eval("m1 / m2", env));
  EXPECT_EQ(ratio.timestamps, (std::vector<std::int64_t>{60}));
  EXPECT_DOUBLE_EQ(ratio.values[0], 0.2);
}

TEST(Expression, AggregatesOverArraysGiveSeries) {
  Env env = standard_env();
  auto sum = std::get<Series>(eval("SUM([m1, m2])", env));
  EXPECT_EQ(sum.timestamps, (std::vector<std::int64_t>{0, 60, 120, 180}));
  EXPECT_EQ(sum.values, (std::vector<double>{1, 12, 3, 30}));
  auto avg = std::get<Series>(eval("AVG(METRICS())", env));
  EXPECT_EQ(avg.values, (std::vector<double>{1, 6, 1.5, 30}));
  auto mx = std::get<Series>(eval("MAX(m1, m2)", env));
  EXPECT_EQ(mx.values, (std::vector<double>{1, 10, 3, 30}));
  auto mn = std::get<Series>(eval("MIN([m1, m2])", env));
  EXPECT_EQ(mn.values, (std::vector<double>{1, 2, 0, 30}));
}

TEST(Expression, AggregateOfOneSeriesIsAScalar) {
  Env env = standard_env();
  EXPECT_DOUBLE_EQ(std::get<double>(eval("SUM(m1)", env)), 6);
  EXPECT_DOUBLE_EQ(std::get<double>(eval("AVG(m2)", env)), 40.0 / 3);
  auto pct = std::get<Series>(eval("100 * m1 / SUM(m1)", env));
  EXPECT_NEAR(pct.values[2], 50, 1e-9);
}

TEST(Expression, ArraysMapElementWise) {
  Env env = standard_env();
  auto arr = std::get<std::vector<Series>>(eval("METRICS() * 2", env));
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[1].values, (std::vector<double>{20, 0, 60}));
  EXPECT_EQ(arr[1].label, "m2");
}

TEST(Expression, References) {
  auto e = Expression::parse("SUM([m1, m2]) / m1 + e_3");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->references(), (std::vector<std::string>{"m1", "m2", "e_3"}));
  EXPECT_FALSE(e->uses_all_metrics());
  EXPECT_TRUE(Expression::parse("SUM(METRICS())")->uses_all_metrics());
}

TEST(Expression, ClearErrors) {
  struct Case {
    const char* text;
    const char* contains;
  };
  for (const Case& c : {Case{"", "empty"}, Case{"m1 +", "position 5"},
                        Case{"RATE(m1)", "Unsupported function RATE"},
                        Case{"FILL(m1, 0)", "Unsupported function FILL"},
                        Case{"SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\")", "SELECT"},
                        Case{"M1 + 1", "not a query id"}, Case{"(m1", "expected ')'"},
                        Case{"[]", "at least one"}, Case{"m1 $ 2", "unexpected '$'"},
                        Case{"SEARCH('{AWS/EC2}', 'Sum', 300)", "Unsupported function SEARCH"},
                        Case{"METRICS(\"x\")", "Unsupported strings"}}) {
    auto e = Expression::parse(c.text);
    ASSERT_FALSE(e.has_value()) << c.text;
    EXPECT_NE(e.error().find(c.contains), std::string::npos) << c.text << " -> " << e.error();
  }
  std::string deep(300, '(');
  EXPECT_FALSE(Expression::parse(deep + "1" + std::string(300, ')')).has_value());
  EXPECT_FALSE(Expression::parse(std::string(3000, '1')).has_value());
}

TEST(Expression, EvaluationErrors) {
  Env env = standard_env();
  auto unknown = Expression::parse("m9 + 1")->evaluate(env);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().find("m9"), std::string::npos);
  EXPECT_FALSE(Expression::parse("METRICS() + METRICS()")->evaluate(env).has_value());
  EXPECT_FALSE(Expression::parse("[m1, 2]")->evaluate(env).has_value());
}

}  // namespace
}  // namespace mailtally::metrics::expr
