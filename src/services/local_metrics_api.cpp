#include "services/local_metrics_api.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "base/time_format.hpp"
#include "domain/event_sink.hpp"
#include "metrics/rules.hpp"
#include "services/local_api.hpp"
#include "services/local_json.hpp"
#include "services/metrics_replay.hpp"

namespace mailtally::services {
namespace json = boost::json;
namespace {

using Params = std::map<std::string, std::string>;

constexpr std::string_view kPrefix = "/_mailtally/metrics/";

http::Response wrong_method(std::string_view allow) {
  http::Response r = json_error(405, "method not allowed here; use " + std::string(allow));
  r.headers.add("Allow", std::string(allow));
  return r;
}

std::optional<std::string> param(const Params& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

// Epoch seconds or ISO-8601.
std::optional<double> parse_time(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && end == s.data() + s.size() && std::isfinite(v)) return v;
  return base::parse_iso8601(s);
}

std::optional<double> json_time(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_string()) return parse_time(v->as_string());
  if (v->is_number()) return v->to_number<double>();
  return std::nullopt;
}

double now_seconds(const base::Clock& clock) {
  return std::chrono::duration<double>(clock.now().time_since_epoch()).count();
}

json::object key_fields(std::string_view owner) {
  auto [set, destination] = destinations::split_cursor_key(owner);
  return json::object{{"configurationSet", set}, {"eventDestination", destination}};
}

// ---- cost and caps ----

// Every CloudWatch destination of every configuration set.
std::vector<std::string> cloudwatch_destinations(domain::ConfigStore& config) {
  std::vector<std::string> out;
  std::string after;
  for (;;) {
    auto names = config.list_configuration_sets(after, 1000);
    for (const auto& name : names) {
      if (auto set = config.get_configuration_set(name)) {
        for (const auto& d : set->destinations) {
          if (d.cloudwatch) out.push_back(domain::cursor_key(name, d.name));
        }
      }
    }
    if (names.size() < 1000) break;
    after = names.back();
  }
  return out;
}

json::value cap_json(const LocalMetricsContext& c, const std::string& owner,
                     const std::map<std::string, std::int64_t>& overrides) {
  if (auto it = overrides.find(owner); it != overrides.end()) {
    return json::object{{"limit", it->second}, {"source", "override"}};
  }
  if (auto d = c.sink.default_cap()) return json::object{{"limit", *d}, {"source", "default"}};
  return nullptr;
}

http::Response cost(const LocalMetricsContext& c, const Params& p) {
  double price = c.price_per_metric;
  if (auto s = param(p, "price")) {
    auto v = parse_time(*s);  // a plain number
    if (!v || *v < 0) return json_error(400, "price must be a non-negative number");
    price = *v;
  }
  std::set<std::string> owners;
  for (auto& o : c.ledger.owners()) owners.insert(o);
  for (auto& o : cloudwatch_destinations(c.config)) owners.insert(o);
  std::map<std::string, std::int64_t> overrides;
  for (auto& [o, cap] : c.ledger.caps()) {
    overrides[o] = cap;
    owners.insert(o);
  }
  json::array list;
  std::int64_t sum = 0;
  for (const auto& owner : owners) {
    // CloudWatch bills metrics (namespace + name + dimensions), not units.
    std::set<std::string> metrics;
    std::map<std::string, std::set<std::string>> values;
    for (const auto& s : c.ledger.owned_series(owner)) {
      std::string k = s.metric.name;
      for (const auto& d : s.metric.dimensions) {
        k += '\x1f' + d.name + '\x1e' + d.value;
        values[d.name].insert(d.value);
      }
      metrics.insert(std::move(k));
    }
    json::array dims;
    std::string driver;
    std::size_t most = 0;
    for (const auto& [name, vals] : values) {
      dims.push_back(json::object{{"name", name}, {"distinctValues", vals.size()}});
      if (vals.size() > most) {
        most = vals.size();
        driver = name;
      }
    }
    const auto n = static_cast<std::int64_t>(metrics.size());
    sum += n;
    json::object o = key_fields(owner);
    o["metrics"] = n;
    o["estimatedMonthlyCost"] = std::round(static_cast<double>(n) * price * 100) / 100;
    o["dimensions"] = std::move(dims);
    o["drivingDimension"] = driver.empty() ? json::value(nullptr) : json::value(driver);
    json::value cap = cap_json(c, owner, overrides);
    o["capReached"] = cap.is_object() && n >= cap.as_object().at("limit").as_int64();
    o["cap"] = std::move(cap);
    list.push_back(std::move(o));
  }
  // Every AWS/SES metric (account-level ones included), each billed once.
  std::set<std::string> all;
  for (const auto& s : c.ledger.all_series()) {
    if (s.metric.ns != "AWS/SES") continue;
    std::string k = s.metric.name;
    for (const auto& d : s.metric.dimensions) k += '\x1f' + d.name + '\x1e' + d.value;
    all.insert(std::move(k));
  }
  const double total = static_cast<double>(all.size());
  return json_reply(200, json::object{
                             {"pricePerMetricMonth", price},
                             {"currency", "USD"},
                             {"destinations", std::move(list)},
                             {"destinationMetricsSum", sum},
                             {"sesMetrics", all.size()},
                             {"sesEstimatedMonthlyCost", std::round(total * price * 100) / 100},
                         });
}

http::Response caps(const LocalMetricsContext& c) {
  json::array list;
  for (auto& [owner, cap] : c.ledger.caps()) {
    json::object o = key_fields(owner);
    o["cap"] = cap;
    list.push_back(std::move(o));
  }
  json::value def = c.sink.default_cap() ? json::value(*c.sink.default_cap()) : json::value();
  return json_reply(200, json::object{{"defaultCap", def}, {"overrides", std::move(list)}});
}

http::Response put_cap(const LocalMetricsContext& c, std::string_view rest,
                       const std::string& body) {
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= rest.size() ||
      rest.find('/', slash + 1) != std::string_view::npos) {
    return json_error(404, "use /_mailtally/metrics/caps/<configuration set>/<event destination>");
  }
  std::string set(rest.substr(0, slash)), dest(rest.substr(slash + 1));
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("cap")) {
    return json_error(400, R"(the body must be {"cap": <non-negative integer>} or {"cap": null})");
  }
  const json::value& cap = v.as_object().at("cap");
  std::optional<std::int64_t> value;
  if (cap.is_int64() && cap.as_int64() >= 0) {
    value = cap.as_int64();
  } else if (cap.is_uint64()) {
    value = static_cast<std::int64_t>(std::min<std::uint64_t>(cap.as_uint64(), INT64_MAX));
  } else if (!cap.is_null()) {
    return json_error(400, "cap must be a non-negative integer or null");
  }
  auto record = c.config.get_configuration_set(set);
  bool found = false;
  if (record) {
    for (const auto& d : record->destinations) found = found || (d.name == dest && d.cloudwatch);
  }
  if (!found) return json_error(404, "no CloudWatch event destination " + dest + " in " + set);
  const std::string owner = domain::cursor_key(set, dest);
  c.sink.set_cap(owner, value);
  json::object o = key_fields(owner);
  o["cap"] = value ? json::value(*value) : json::value(nullptr);
  return json_reply(200, o);
}

// ---- rollups ----

struct Acc {
  double sum = 0, count = 0, lo = 0, hi = 0;
  void add(const metrics::Aggregate& a) {
    if (count == 0) {
      lo = a.minimum;
      hi = a.maximum;
    } else {
      lo = std::min(lo, a.minimum);
      hi = std::max(hi, a.maximum);
    }
    sum += a.sum;
    count += a.sample_count;
  }
};

http::Response rollup(const LocalMetricsContext& c, const Params& p) {
  const std::string ns = param(p, "namespace").value_or("AWS/SES");
  auto name = param(p, "metric");
  if (!name) return json_error(400, "metric (the metric name) is required");
  const std::string statistic = param(p, "statistic").value_or("Sum");
  enum { Sum, Count, Min, Max, Avg } stat;
  if (statistic == "Sum") {
    stat = Sum;
  } else if (statistic == "SampleCount") {
    stat = Count;
  } else if (statistic == "Minimum" || statistic == "Min") {
    stat = Min;
  } else if (statistic == "Maximum" || statistic == "Max") {
    stat = Max;
  } else if (statistic == "Average") {
    stat = Avg;
  } else {
    return json_error(400, "statistic must be Sum, SampleCount, Minimum, Maximum or Average");
  }
  std::vector<std::string> by;
  if (auto b = param(p, "by")) {
    std::string_view rest = *b;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      if (!item.empty()) by.emplace_back(item);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  std::int64_t period = 60;
  if (auto s = param(p, "period")) {
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), period);
    if (ec != std::errc() || end != s->data() + s->size() || period <= 0 ||
        (period % 60 != 0 && period != 1 && period != 5 && period != 10 && period != 30)) {
      return json_error(400, "period must be 1, 5, 10, 30 or a multiple of 60 seconds");
    }
  }
  const double now = now_seconds(c.clock);
  std::optional<double> start = now - 3600, end = now;
  if (auto s = param(p, "start")) start = parse_time(*s);
  if (auto s = param(p, "end")) end = parse_time(*s);
  if (!start || !end) return json_error(400, "start and end must be ISO-8601 or epoch seconds");
  auto from = static_cast<std::int64_t>(std::floor(*start));
  from -= ((from % period) + period) % period;
  auto to = static_cast<std::int64_t>(std::ceil(*end));
  if (to <= from) return json_error(400, "end must be after start");
  if ((to - from) / period > 100800) return json_error(400, "too many periods (more than 100,800)");

  // Group every series of the metric by its values of the `by` dimensions.
  std::map<std::vector<std::string>, std::map<std::int64_t, Acc>> groups;
  std::map<std::vector<std::string>, std::int64_t> series_per_group;
  std::int64_t skipped = 0;
  for (const auto& s : c.ledger.series_named(ns, *name)) {
    std::vector<std::string> values;
    for (const auto& want : by) {
      auto it = std::find_if(s.metric.dimensions.begin(), s.metric.dimensions.end(),
                             [&](const metrics::Dimension& d) { return d.name == want; });
      if (it == s.metric.dimensions.end()) break;
      values.push_back(it->value);
    }
    if (values.size() != by.size()) {
      ++skipped;
      continue;
    }
    metrics::StatisticsQuery q;
    q.metric = s.metric;
    q.unit = s.unit;
    q.start = from;
    q.end = to;
    q.period = period;
    auto& g = groups[values];
    ++series_per_group[values];
    for (const auto& ps : c.store.statistics(q)) g[ps.timestamp].add(ps.aggregate);
  }
  json::array out;
  for (const auto& [values, points] : groups) {
    json::object dims;
    for (std::size_t i = 0; i < by.size(); ++i) dims[by[i]] = values[i];
    json::array dps;
    for (const auto& [ts, a] : points) {
      double v = stat == Sum     ? a.sum
                 : stat == Count ? a.count
                 : stat == Min   ? a.lo
                 : stat == Max   ? a.hi
                                 : (a.count > 0 ? a.sum / a.count : 0);
      dps.push_back(
          json::object{{"timestamp", base::format_iso8601(static_cast<double>(ts))}, {"value", v}});
    }
    out.push_back(json::object{{"dimensions", std::move(dims)},
                               {"series", series_per_group[values]},
                               {"datapoints", std::move(dps)}});
  }
  json::array by_json;
  for (const auto& b : by) by_json.push_back(json::value(b));
  return json_reply(200, json::object{
                             {"note",
                              "mailtally rollup across dimensions: not a CloudWatch API result "
                              "(CloudWatch never aggregates custom metrics across dimensions)"},
                             {"namespace", ns},
                             {"metric", *name},
                             {"by", std::move(by_json)},
                             {"statistic", statistic},
                             {"period", period},
                             {"start", base::format_iso8601(static_cast<double>(from))},
                             {"end", base::format_iso8601(static_cast<double>(to))},
                             {"seriesWithoutTheseDimensions", skipped},
                             {"groups", std::move(out)},
                         });
}

// ---- replay ----

http::Response replay(const LocalMetricsContext& c, const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return json_error(400, "the body must be a JSON object");
  const json::object& o = v.as_object();
  auto str = [&](const char* k) -> std::optional<std::string> {
    const json::value* x = o.if_contains(k);
    if (!x || !x->is_string() || x->as_string().empty()) return std::nullopt;
    return std::string(x->as_string());
  };
  auto set = str("configurationSet");
  auto dest = str("eventDestination");
  if (!set || !dest) return json_error(400, "configurationSet and eventDestination are required");
  ReplayRequest r;
  r.configuration_set = *set;
  r.destination = *dest;
  r.start = 0;
  r.end = now_seconds(c.clock) + 1;
  if (o.contains("start")) {
    auto t = json_time(o, "start");
    if (!t) return json_error(400, "start must be ISO-8601 or epoch seconds");
    r.start = *t;
  }
  if (o.contains("end")) {
    auto t = json_time(o, "end");
    if (!t) return json_error(400, "end must be ISO-8601 or epoch seconds");
    r.end = *t;
  }
  auto report = replay_events(c.events, c.config, c.sink, c.ledger, r);
  if (!report) return json_error(report.error().status, report.error().message);
  return json_reply(200, json::object{
                             {"configurationSet", *set},
                             {"eventDestination", *dest},
                             {"fingerprint", report->fingerprint},
                             {"throughSeq", report->through_seq},
                             {"eventsInRange", report->events_scanned},
                             {"alreadyCovered", report->already_covered},
                             {"eventsApplied", report->events_applied},
                             {"datapoints", report->datapoints},
                             {"drops", report->drops},
                         });
}

// ---- diagnostics ----

http::Response diagnostics(const LocalMetricsContext& c, const Params& p) {
  std::int64_t limit = 5;
  if (auto s = param(p, "limit")) {
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), limit);
    if (ec != std::errc() || end != s->data() + s->size() || limit < 0 || limit > 10) {
      return json_error(400, "limit must be an integer from 0 to 10");
    }
  }
  json::array list;
  std::int64_t total = 0;
  for (const auto& d : c.ledger.drop_counts()) {
    json::object o = key_fields(d.owner);
    o["reason"] = d.reason;
    o["count"] = d.count;
    o["lastAt"] = base::format_iso8601(d.last_at);
    json::array ex;
    for (const auto& n :
         c.ledger.drop_examples(d.owner, d.reason, static_cast<std::size_t>(limit))) {
      ex.push_back(json::object{{"seq", n.seq},
                                {"messageId", n.message_id},
                                {"dimension", n.dimension},
                                {"at", base::format_iso8601(n.at)}});
    }
    o["examples"] = std::move(ex);
    total += d.count;
    list.push_back(std::move(o));
  }
  return json_reply(200, json::object{{"total", total}, {"drops", std::move(list)}});
}

}  // namespace

bool is_local_metrics_request(const http::Request& request) {
  std::string_view path = request.path();
  return path == "/metrics" || path == "/_mailtally/metrics" ||
         path.substr(0, kPrefix.size()) == kPrefix;
}

http::Response handle_local_metrics(const LocalMetricsContext& c, const http::Request& request) {
  const std::string path = percent_decode(request.path());
  const bool get = request.method == "GET" || request.method == "HEAD";
  const Params params = query_params(request.query());
  try {
    if (path == "/metrics") {
      if (!get) return wrong_method("GET, HEAD");
      http::Response r;
      r.headers.add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      r.body = prometheus_exposition(c);
      return r;
    }
    std::string_view rest = std::string_view(path).substr(std::min(path.size(), kPrefix.size()));
    if (rest == "cost") return get ? cost(c, params) : wrong_method("GET, HEAD");
    if (rest == "rollup") return get ? rollup(c, params) : wrong_method("GET, HEAD");
    if (rest == "diagnostics") return get ? diagnostics(c, params) : wrong_method("GET, HEAD");
    if (rest == "caps") return get ? caps(c) : wrong_method("GET, HEAD");
    if (rest.substr(0, 5) == "caps/") {
      if (request.method != "PUT") return wrong_method("PUT");
      return put_cap(c, rest.substr(5), request.body);
    }
    if (rest == "replay") {
      if (request.method != "POST") return wrong_method("POST");
      return replay(c, request.body);
    }
  } catch (const std::exception& e) {
    return json_error(500, std::string("store error: ") + e.what());
  }
  return json_error(404, "not found");
}

}  // namespace mailtally::services
