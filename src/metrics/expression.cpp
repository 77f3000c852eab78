#include "metrics/expression.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>

namespace mailtally::metrics::expr {

struct Node {
  enum class Kind { Number, Ref, Negate, Binary, Call, List };
  Kind kind = Kind::Number;
  double number = 0;
  std::string name;  // Ref: the query id; Call: the function
  char op = 0;       // Binary: + - * / ^
  std::vector<std::unique_ptr<Node>> children;
};

namespace {

using NodePtr = std::unique_ptr<Node>;
using Error = base::Unexpected<std::string>;

constexpr std::string_view kFunctions[] = {"SUM", "AVG", "MIN", "MAX", "METRICS"};

Error fail(std::string message) { return base::unexpected(std::move(message)); }

// ---- parsing --------------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  base::Expected<NodePtr, std::string> parse_all(std::vector<std::string>& refs, bool& metrics) {
    auto root = expr(0);
    if (!root) return root;
    skip_space();
    if (pos_ < text_.size()) return error("unexpected '" + std::string(1, text_[pos_]) + "'");
    refs = std::move(refs_);
    metrics = uses_metrics_;
    return root;
  }

 private:
  using Result = base::Expected<NodePtr, std::string>;

  Error error(const std::string& what) const {
    return fail("Syntax error at position " + std::to_string(pos_ + 1) + ": " + what + ".");
  }
  Error unsupported(const std::string& what) const {
    return fail("Unsupported " + what + " at position " + std::to_string(pos_ + 1) + ".");
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  static NodePtr binary(char op, NodePtr a, NodePtr b) {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::Binary;
    n->op = op;
    n->children.push_back(std::move(a));
    n->children.push_back(std::move(b));
    return n;
  }

  Result expr(int depth) {
    if (depth > kMaxDepth) return error("expression nested too deeply");
    auto left = term(depth + 1);
    if (!left) return left;
    for (;;) {
      char op = accept('+') ? '+' : accept('-') ? '-' : 0;
      if (op == 0) return left;
      auto right = term(depth + 1);
      if (!right) return right;
      left = binary(op, std::move(*left), std::move(*right));
    }
  }

  Result term(int depth) {
    auto left = unary(depth + 1);
    if (!left) return left;
    for (;;) {
      char op = accept('*') ? '*' : accept('/') ? '/' : 0;
      if (op == 0) return left;
      auto right = unary(depth + 1);
      if (!right) return right;
      left = binary(op, std::move(*left), std::move(*right));
    }
  }

  Result unary(int depth) {
    if (depth > kMaxDepth) return error("expression nested too deeply");
    if (accept('-')) {
      auto operand = unary(depth + 1);
      if (!operand) return operand;
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::Negate;
      n->children.push_back(std::move(*operand));
      return n;
    }
    if (accept('+')) return unary(depth + 1);
    auto base = primary(depth + 1);
    if (!base) return base;
    if (accept('^')) {
      auto exponent = unary(depth + 1);
      if (!exponent) return exponent;
      return binary('^', std::move(*base), std::move(*exponent));
    }
    return base;
  }

  Result list_items(int depth, char close, NodePtr node) {
    if (accept(close)) return node;
    do {
      auto item = expr(depth + 1);
      if (!item) return item;
      node->children.push_back(std::move(*item));
    } while (accept(','));
    if (!accept(close)) return error(std::string("expected ',' or '") + close + "'");
    return node;
  }

  Result primary(int depth) {
    if (depth > kMaxDepth) return error("expression nested too deeply");
    skip_space();
    if (pos_ >= text_.size()) return error("expected a number, a query id or a function");
    char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      auto inner = expr(depth + 1);
      if (!inner) return inner;
      if (!accept(')')) return error("expected ')'");
      return inner;
    }
    if (c == '[') {
      ++pos_;
      auto list = std::make_unique<Node>();
      list->kind = Node::Kind::List;
      auto done = list_items(depth, ']', std::move(list));
      if (done && (*done)->children.empty()) return error("an array needs at least one item");
      return done;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return number();
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') return name(depth);
    if (c == '"' || c == '\'') {
      return unsupported(
          "strings (mailtally supports + - * / ^, numbers, query ids and SUM, "
          "AVG, MIN, MAX, METRICS())");
    }
    return error("unexpected '" + std::string(1, c) + "'");
  }

  Result number() {
    std::size_t start = pos_;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      std::size_t save = pos_++;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
          ++pos_;
        }
      } else {
        pos_ = save;
      }
    }
    double v = 0;
    auto [p, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, v);
    if (ec != std::errc() || p != text_.data() + pos_) {
      pos_ = start;
      return error("malformed number");
    }
    auto n = std::make_unique<Node>();
    n->number = v;
    return n;
  }

  Result name(int depth) {
    std::size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
      ++pos_;
    }
    std::string word(text_.substr(start, pos_ - start));
    auto n = std::make_unique<Node>();
    n->name = word;
    if (!accept('(')) {
      if (!std::islower(static_cast<unsigned char>(word[0]))) {
        pos_ = start;
        return error("'" + word + "' is not a query id (ids start with a lowercase letter) nor " +
                     "a function call");
      }
      n->kind = Node::Kind::Ref;
      if (std::find(refs_.begin(), refs_.end(), word) == refs_.end()) refs_.push_back(word);
      return n;
    }
    if (std::find(std::begin(kFunctions), std::end(kFunctions), word) == std::end(kFunctions)) {
      pos_ = start;
      return unsupported("function " + word +
                         " (mailtally supports SUM, AVG, MIN, MAX and METRICS())");
    }
    n->kind = Node::Kind::Call;
    auto call = list_items(depth, ')', std::move(n));
    if (!call) return call;
    const Node& c = **call;
    if (c.name == "METRICS") {
      if (!c.children.empty()) return error("METRICS() takes no arguments here");
      uses_metrics_ = true;
    } else if (c.children.empty()) {
      return error(c.name + " needs an argument");
    }
    return call;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::vector<std::string> refs_;
  bool uses_metrics_ = false;
};

// ---- evaluation -----------------------------------------------------------------------------

using Array = std::vector<Series>;

double apply(char op, double a, double b) {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    default:
      return std::pow(a, b);
  }
}

void push_finite(Series& out, std::int64_t ts, double v) {
  if (!std::isfinite(v)) return;
  out.timestamps.push_back(ts);
  out.values.push_back(v);
}

template <class F>
Series map_series(const Series& s, F f) {
  Series out;
  out.label = s.label;
  for (std::size_t i = 0; i < s.values.size(); ++i) {
    push_finite(out, s.timestamps[i], f(s.values[i]));
  }
  return out;
}

Series combine(char op, const Series& a, const Series& b) {
  Series out;
  out.label = a.label;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.timestamps.size() && j < b.timestamps.size()) {
    if (a.timestamps[i] < b.timestamps[j]) {
      ++i;
    } else if (b.timestamps[j] < a.timestamps[i]) {
      ++j;
    } else {
      push_finite(out, a.timestamps[i], apply(op, a.values[i], b.values[j]));
      ++i;
      ++j;
    }
  }
  return out;
}

base::Expected<Value, std::string> binary(char op, const Value& a, const Value& b) {
  if (std::holds_alternative<Array>(a) && std::holds_alternative<Array>(b)) {
    return fail("Two arrays of time series cannot be combined with '" + std::string(1, op) + "'.");
  }
  if (const auto* arr = std::get_if<Array>(&a)) {
    Array out;
    for (const Series& s : *arr) {
      auto r = binary(op, Value(s), b);
      if (!r) return r;
      out.push_back(std::get<Series>(std::move(*r)));
    }
    return Value(std::move(out));
  }
  if (const auto* arr = std::get_if<Array>(&b)) {
    Array out;
    for (const Series& s : *arr) {
      auto r = binary(op, a, Value(s));
      if (!r) return r;
      out.push_back(std::get<Series>(std::move(*r)));
    }
    return Value(std::move(out));
  }
  const auto* sa = std::get_if<Series>(&a);
  const auto* sb = std::get_if<Series>(&b);
  if (sa && sb) return Value(combine(op, *sa, *sb));
  if (sa) {
    double y = std::get<double>(b);
    return Value(map_series(*sa, [&](double x) { return apply(op, x, y); }));
  }
  if (sb) {
    double x = std::get<double>(a);
    Series r = map_series(*sb, [&](double y) { return apply(op, x, y); });
    return Value(std::move(r));
  }
  return Value(apply(op, std::get<double>(a), std::get<double>(b)));
}

struct Accumulator {
  double sum = 0;
  double count = 0;
  double min = INFINITY;
  double max = -INFINITY;
  void add(double v) {
    sum += v;
    count += 1;
    min = std::min(min, v);
    max = std::max(max, v);
  }
  double result(std::string_view fn) const {
    if (count == 0) return NAN;
    if (fn == "SUM") return sum;
    if (fn == "AVG") return sum / count;
    if (fn == "MIN") return min;
    return max;
  }
};

// fn over the values of one series (a scalar) or across the series of an array (a series).
base::Expected<Value, std::string> aggregate(const std::string& fn, std::vector<Value> args) {
  if (args.size() == 1) {
    if (const auto* d = std::get_if<double>(&args[0])) return Value(*d);
    if (const auto* s = std::get_if<Series>(&args[0])) {
      Accumulator acc;
      for (double v : s->values) acc.add(v);
      return Value(acc.result(fn));
    }
  }
  Array items;
  for (auto& a : args) {
    if (auto* s = std::get_if<Series>(&a)) {
      items.push_back(std::move(*s));
    } else if (auto* arr = std::get_if<Array>(&a)) {
      for (auto& s : *arr) items.push_back(std::move(s));
    } else {
      return fail(fn + " over several arguments takes time series, not numbers.");
    }
  }
  std::map<std::int64_t, Accumulator> by_time;
  for (const Series& s : items) {
    for (std::size_t i = 0; i < s.values.size(); ++i) by_time[s.timestamps[i]].add(s.values[i]);
  }
  Series out;
  for (const auto& [ts, acc] : by_time) push_finite(out, ts, acc.result(fn));
  return Value(std::move(out));
}

base::Expected<Value, std::string> eval(const Node& n, const Environment& env) {
  switch (n.kind) {
    case Node::Kind::Number:
      return Value(n.number);
    case Node::Kind::Ref: {
      const Array* found = env.lookup(n.name);
      if (found == nullptr) return fail("Unknown query id " + n.name + ".");
      if (found->size() == 1) return Value(found->front());
      return Value(*found);
    }
    case Node::Kind::Negate: {
      auto v = eval(*n.children[0], env);
      if (!v) return v;
      return binary('*', *v, Value(-1.0));
    }
    case Node::Kind::Binary: {
      auto a = eval(*n.children[0], env);
      if (!a) return a;
      auto b = eval(*n.children[1], env);
      if (!b) return b;
      return binary(n.op, *a, *b);
    }
    case Node::Kind::List: {
      Array out;
      for (const auto& c : n.children) {
        auto v = eval(*c, env);
        if (!v) return v;
        if (auto* s = std::get_if<Series>(&*v)) {
          out.push_back(std::move(*s));
        } else if (auto* arr = std::get_if<Array>(&*v)) {
          for (auto& s : *arr) out.push_back(std::move(s));
        } else {
          return fail("An array holds time series, not numbers.");
        }
      }
      return Value(std::move(out));
    }
    case Node::Kind::Call: {
      if (n.name == "METRICS") return Value(env.all_metrics());
      std::vector<Value> args;
      for (const auto& c : n.children) {
        auto v = eval(*c, env);
        if (!v) return v;
        args.push_back(std::move(*v));
      }
      return aggregate(n.name, std::move(args));
    }
  }
  return fail("internal: unknown node");
}

}  // namespace

base::Expected<Expression, std::string> Expression::parse(std::string_view text) {
  if (text.size() > kMaxLength) {
    return fail("The expression is longer than " + std::to_string(kMaxLength) + " characters.");
  }
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return fail("The expression is empty.");
  std::string head(text.substr(first, 6));
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (head == "SELECT") {
    return fail("Metrics Insights queries (SELECT ...) are not supported by mailtally.");
  }
  Parser parser(text);
  Expression e;
  auto root = parser.parse_all(e.references_, e.uses_all_metrics_);
  if (!root) return base::unexpected(std::move(root).error());
  e.root_ = std::shared_ptr<const Node>(std::move(*root));
  return e;
}

base::Expected<Value, std::string> Expression::evaluate(const Environment& env) const {
  return eval(*root_, env);
}

}  // namespace mailtally::metrics::expr
