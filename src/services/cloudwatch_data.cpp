// CloudWatch GetMetricData: MetricStat queries and metric math expressions, ScanBy, Labels,
// ReturnData, and paging by MaxDatapoints with a NextToken.
//
// Paging: every page recomputes the whole answer and returns the datapoints at positions
// [offset, offset + MaxDatapoints) of the returned results laid end to end (query order, then
// time order). The token holds the next offset and a fingerprint of the request, so a token
// used with a different request is refused (InvalidNextToken). Every page lists every returned
// query; StatusCode is PartialData while a result has datapoints on later pages.
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "base/crypto.hpp"
#include "services/cloudwatch_internal.hpp"
#include "services/doc.hpp"

namespace mailtally::services::cloudwatch {
namespace {

namespace expr = metrics::expr;

constexpr std::size_t kMaxQueries = 500;
constexpr std::int64_t kDefaultMaxDatapoints = 100'800;
constexpr std::string_view kTokenPrefix = "mtlm-gmd:";

struct Query {
  std::string id;
  std::string path;  // MetricDataQueries.member.N
  std::optional<std::string> label;
  bool return_data = true;
  std::optional<StatRequest> stat;
  std::optional<expr::Expression> expression;
};

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 255 || !(id[0] >= 'a' && id[0] <= 'z')) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

base::Expected<StatRequest, wire::ApiError> read_stat(const json::object& ms,
                                                      const std::string& at) {
  StatRequest r;
  const json::object* metric = doc::obj(ms, "Metric");
  if (metric == nullptr) {
    return fail(missing_parameter("The parameter " + at + ".Metric is required."));
  }
  auto key = read_metric(*metric, at + ".Metric.");
  if (!key) return fail(std::move(key).error());
  r.metric = std::move(*key);
  auto period = doc::opt_int(ms, "Period");
  if (auto e = check_period(period, at + ".Period")) return fail(std::move(*e));
  r.period = *period;
  auto stat = doc::opt_str(ms, "Stat");
  if (!stat) return fail(missing_parameter("The parameter " + at + ".Stat is required."));
  auto parsed = metrics::parse_statistic(*stat);
  if (!parsed) {
    return fail(invalid_parameter(*stat, at + ".Stat",
                                  "mailtally supports SampleCount, Average, Sum, Minimum, Maximum "
                                  "and percentiles pNN.NN."));
  }
  r.stat = std::move(*parsed);
  r.unit = doc::opt_str(ms, "Unit");
  return r;
}

base::Expected<std::vector<Query>, wire::ApiError> read_queries(const json::array& list) {
  if (list.empty()) {
    return fail(missing_parameter("The parameter MetricDataQueries must hold at least one query."));
  }
  if (list.size() > kMaxQueries) {
    return fail(
        invalid_value("The collection MetricDataQueries must not have a size greater than " +
                      std::to_string(kMaxQueries) + "."));
  }
  std::vector<Query> queries;
  std::set<std::string, std::less<>> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    Query q;
    q.path = member_path("MetricDataQueries", i + 1);
    const json::object* in = list[i].if_object();
    if (in == nullptr || !doc::opt_str(*in, "Id")) {
      return fail(missing_parameter("The parameter " + q.path + ".Id is required."));
    }
    q.id = doc::str(*in, "Id");
    if (!valid_id(q.id)) {
      return fail(invalid_parameter(q.id, q.path + ".Id",
                                    "Ids start with a lowercase letter and hold only letters, "
                                    "digits and underscores."));
    }
    if (!ids.insert(q.id).second) {
      return fail(invalid_parameter(q.id, q.path + ".Id", "Ids must be unique in a request."));
    }
    q.label = doc::opt_str(*in, "Label");
    q.return_data = doc::boolean(*in, "ReturnData", true);
    const json::object* ms = doc::obj(*in, "MetricStat");
    auto text = doc::opt_str(*in, "Expression");
    if (ms && text) {
      return fail(invalid_combination("The parameters " + q.path + ".MetricStat and " + q.path +
                                      ".Expression are mutually exclusive and you have specified "
                                      "both."));
    }
    if (!ms && !text) {
      return fail(missing_parameter("The parameter " + q.path + ".MetricStat or " + q.path +
                                    ".Expression is required."));
    }
    if (ms) {
      auto stat = read_stat(*ms, q.path + ".MetricStat");
      if (!stat) return fail(std::move(stat).error());
      q.stat = std::move(*stat);
    } else {
      auto e = expr::Expression::parse(*text);
      if (!e) return fail(invalid_value("Error in expression " + q.id + ": " + e.error()));
      q.expression = std::move(*e);
    }
    queries.push_back(std::move(q));
  }
  return queries;
}

class Results final : public expr::Environment {
 public:
  std::map<std::string, std::vector<expr::Series>, std::less<>> by_id;
  std::vector<std::string> metric_ids;  // MetricStat queries, in request order

  const std::vector<expr::Series>* lookup(std::string_view id) const override {
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : &it->second;
  }
  std::vector<expr::Series> all_metrics() const override {
    std::vector<expr::Series> out;
    for (const auto& id : metric_ids) out.push_back(by_id.at(id).front());
    return out;
  }
};

// Expression queries in an order where each comes after the queries it names.
base::Expected<std::vector<const Query*>, wire::ApiError> evaluation_order(
    const std::vector<Query>& queries) {
  std::map<std::string_view, const Query*> by_id;
  for (const auto& q : queries) by_id[q.id] = &q;
  std::vector<const Query*> order;
  std::map<const Query*, int> state;  // 1: visiting, 2: done
  std::function<std::optional<wire::ApiError>(const Query*)> visit =
      [&](const Query* q) -> std::optional<wire::ApiError> {
    if (!q->expression || state[q] == 2) return std::nullopt;
    if (state[q] == 1) {
      return invalid_value("Error in expression " + q->id + ": circular reference.");
    }
    state[q] = 1;
    for (const auto& ref : q->expression->references()) {
      auto it = by_id.find(ref);
      if (it == by_id.end()) {
        return invalid_value("Error in expression " + q->id + ": Unknown query id " + ref + ".");
      }
      if (auto e = visit(it->second)) return e;
    }
    state[q] = 2;
    order.push_back(q);
    return std::nullopt;
  };
  for (const auto& q : queries) {
    if (auto e = visit(&q)) return fail(std::move(*e));
  }
  return order;
}

// An expression's value as result series; a scalar is laid on every timestamp the request's
// metrics have.
std::vector<expr::Series> as_series(expr::Value v, const Results& results) {
  if (auto* s = std::get_if<expr::Series>(&v)) return {std::move(*s)};
  if (auto* a = std::get_if<std::vector<expr::Series>>(&v)) return std::move(*a);
  double x = std::get<double>(v);
  std::set<std::int64_t> stamps;
  for (const auto& id : results.metric_ids) {
    for (const auto& s : results.by_id.at(id)) {
      stamps.insert(s.timestamps.begin(), s.timestamps.end());
    }
  }
  expr::Series out;
  if (std::isfinite(x)) {
    for (std::int64_t t : stamps) {
      out.timestamps.push_back(t);
      out.values.push_back(x);
    }
  }
  return {std::move(out)};
}

std::uint64_t fingerprint(const json::object& in) {
  std::string basis;
  if (const auto* q = doc::get(in, "MetricDataQueries")) basis += json::serialize(*q);
  for (const char* k : {"StartTime", "EndTime", "ScanBy"}) {
    if (const auto* v = doc::get(in, k)) basis += "|" + json::serialize(*v);
  }
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : basis) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string page_token(std::size_t offset, std::uint64_t print) {
  return base::base64_encode(std::string(kTokenPrefix) + std::to_string(offset) + ":" +
                             std::to_string(print));
}

std::optional<std::size_t> parse_page_token(std::string_view token, std::uint64_t print) {
  auto raw = base::base64_decode(token);
  if (!raw || raw->rfind(kTokenPrefix, 0) != 0) return std::nullopt;
  std::string_view rest = std::string_view(*raw).substr(kTokenPrefix.size());
  std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::size_t offset = 0;
  std::uint64_t got = 0;
  auto a = std::from_chars(rest.data(), rest.data() + colon, offset);
  auto b = std::from_chars(rest.data() + colon + 1, rest.data() + rest.size(), got);
  if (a.ec != std::errc() || a.ptr != rest.data() + colon || b.ec != std::errc() ||
      b.ptr != rest.data() + rest.size() || got != print) {
    return std::nullopt;
  }
  return offset;
}

struct Returned {
  const Query* query;
  expr::Series series;
};

}  // namespace

Output get_metric_data(const metrics::MetricStore& store, const base::Clock& clock,
                       const json::object& in) {
  const json::array* list = doc::arr(in, "MetricDataQueries");
  if (list == nullptr) {
    return fail(missing_parameter("The parameter MetricDataQueries is required."));
  }
  auto start = doc::opt_number(in, "StartTime");
  auto end = doc::opt_number(in, "EndTime");
  if (!start) return fail(missing_parameter("The parameter StartTime is required."));
  if (!end) return fail(missing_parameter("The parameter EndTime is required."));
  auto queries = read_queries(*list);
  if (!queries) return fail(std::move(queries).error());
  if (!(*start < *end)) {
    return fail(invalid_value("The parameter StartTime must be less than the parameter EndTime."));
  }
  const std::int64_t max_points = doc::opt_int(in, "MaxDatapoints").value_or(kDefaultMaxDatapoints);
  if (max_points < 1) {
    return fail(invalid_parameter(std::to_string(max_points), "MaxDatapoints",
                                  "MaxDatapoints must be at least 1."));
  }
  const std::string scan = doc::opt_str(in, "ScanBy").value_or("TimestampDescending");
  if (scan != "TimestampDescending" && scan != "TimestampAscending") {
    return fail(invalid_parameter(scan, "ScanBy"));
  }
  const std::uint64_t print = fingerprint(in);
  std::size_t offset = 0;
  if (auto token = doc::opt_str(in, "NextToken")) {
    auto parsed = parse_page_token(*token, print);
    if (!parsed) return fail(invalid_next_token("The NextToken is not valid for this request."));
    offset = *parsed;
  }
  auto order = evaluation_order(*queries);
  if (!order) return fail(std::move(order).error());

  const std::int64_t now = now_seconds(clock);
  Results results;
  for (const auto& q : *queries) {
    if (!q.stat) continue;
    results.by_id[q.id] = {read_stat_series(store, *q.stat, *start, *end, now)};
    results.metric_ids.push_back(q.id);
  }
  for (const Query* q : *order) {
    auto value = q->expression->evaluate(results);
    if (!value) return fail(invalid_value("Error in expression " + q->id + ": " + value.error()));
    auto series = as_series(std::move(*value), results);
    if (series.size() == 1) series[0].label = q->id;
    results.by_id[q->id] = std::move(series);
  }

  std::vector<Returned> returned;
  std::size_t total = 0;
  for (const auto& q : *queries) {
    if (!q.return_data) continue;
    for (const auto& s : results.by_id.at(q.id)) {
      returned.push_back({&q, s});
      total += s.values.size();
    }
  }
  if (offset > total) {
    return fail(invalid_next_token("The NextToken is not valid for this request."));
  }
  const std::size_t page_end =
      std::min<std::size_t>(total, offset + static_cast<std::size_t>(max_points));

  json::array out_results;
  std::size_t pos = 0;
  for (auto& r : returned) {
    std::size_t n = r.series.values.size();
    if (scan == "TimestampDescending") {
      std::reverse(r.series.timestamps.begin(), r.series.timestamps.end());
      std::reverse(r.series.values.begin(), r.series.values.end());
    }
    std::size_t from = std::clamp(offset, pos, pos + n) - pos;
    std::size_t to = std::clamp(page_end, pos, pos + n) - pos;
    json::array stamps;
    json::array values;
    for (std::size_t i = from; i < to; ++i) {
      stamps.emplace_back(static_cast<double>(r.series.timestamps[i]));
      values.emplace_back(r.series.values[i]);
    }
    std::string label = r.query->label.value_or(r.series.label);
    out_results.push_back(
        json::object{{"Id", r.query->id},
                     {"Label", std::move(label)},
                     {"Timestamps", std::move(stamps)},
                     {"Values", std::move(values)},
                     {"StatusCode", pos + n > page_end ? "PartialData" : "Complete"}});
    pos += n;
  }
  json::object out{{"MetricDataResults", std::move(out_results)}, {"Messages", json::array()}};
  if (page_end < total) out["NextToken"] = page_token(page_end, print);
  return out;
}

}  // namespace mailtally::services::cloudwatch
