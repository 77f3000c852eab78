// GET /metrics: the Prometheus text exposition format (version 0.0.4).
//
// Stored series: one family per CloudWatch namespace + metric name, named
// "<namespace>_<metric name>" with every character outside [A-Za-z0-9_] replaced by '_'
// (a leading digit gets a '_' prefix; clashing names get a numeric suffix). Dimensions become
// labels, their names made valid the same way (clashes get a suffix); the original namespace,
// metric name and dimension names are in the family's HELP line.
//   - Counting series (namespaces AWS/SES and mailtally/Publishing with unit Count, where every
//     datapoint is an event counted once) are counters "<family>_total": the Sum of every
//     datapoint still retained (455 days). Replays and drops only add, so the value only grows
//     (until data older than 455 days expires, which Prometheus sees as a counter reset).
//   - Every other series (PutMetricData's own metrics, Reputation.* rates) is a gauge: values
//     can go down or be negative, so a counter would be wrong. Its value is the Average of the
//     latest minute with data in the last three hours (series without such data are left
//     out); the label `unit` holds the CloudWatch unit.
// Server metrics: the gateway's request counters and latency histogram, queue depth, events
// dispatched, datapoints published and dropped.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "domain/event_sink.hpp"
#include "services/local_metrics_api.hpp"

namespace mailtally::services {
namespace {

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 1);
  for (char c : s) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += ok ? c : '_';
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(out.begin(), '_');
  return out;
}

// A valid label name, not reserved ("__" prefix), not already in `taken`.
std::string label_name(std::string_view original, std::set<std::string>& taken) {
  std::string base = sanitize(original);
  if (base.size() >= 2 && base[0] == '_' && base[1] == '_') base = "d" + base;
  std::string name = base;
  for (int i = 2; taken.count(name); ++i) name = base + "_" + std::to_string(i);
  taken.insert(name);
  return name;
}

std::string help_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

bool is_counter(const metrics::SeriesKey& s) {
  return (s.metric.ns == "AWS/SES" || s.metric.ns == "mailtally/Publishing") && s.unit == "Count";
}

struct Family {
  std::string ns, name;
  bool counter = false;
  std::map<std::string, std::string> label_names;  // original dimension -> label (for HELP)
  std::vector<std::string> samples;
};

void render_series(const LocalMetricsContext& c, std::string& out) {
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(c.clock.now().time_since_epoch()).count();
  const std::int64_t hour_end = (now / 3600 + 2) * 3600;
  const std::int64_t hour_start = (now / 3600) * 3600 - 455LL * 86400;
  std::map<std::pair<std::string, std::string>, Family> families;  // by (ns, name, kind)
  for (const auto& s : c.ledger.all_series()) {
    const bool counter = is_counter(s);
    Family& f = families[{s.metric.ns + '\x1f' + s.metric.name, counter ? "c" : "g"}];
    f.ns = s.metric.ns;
    f.name = s.metric.name;
    f.counter = counter;
    metrics::StatisticsQuery q;
    q.metric = s.metric;
    q.unit = s.unit;
    double value = 0;
    if (counter) {
      q.start = hour_start;
      q.end = hour_end;
      q.period = hour_end - hour_start;
      for (const auto& p : c.store.statistics(q)) value += p.aggregate.sum;
    } else {
      q.start = (now / 60) * 60 - 3 * 3600;
      q.end = (now / 60 + 1) * 60;
      q.period = 60;
      auto points = c.store.statistics(q);
      if (points.empty() || !(points.back().aggregate.sample_count > 0)) continue;
      value = points.back().aggregate.sum / points.back().aggregate.sample_count;
    }
    std::set<std::string> taken;
    std::string labels;
    if (!counter) {
      taken.insert("unit");
      labels = "unit=\"" + prometheus_escape(s.unit) + "\"";
    }
    for (const auto& d : s.metric.dimensions) {
      std::string ln = label_name(d.name, taken);
      f.label_names.emplace(d.name, ln);
      if (!labels.empty()) labels += ',';
      labels += ln + "=\"" + prometheus_escape(d.value) + "\"";
    }
    f.samples.push_back((labels.empty() ? " " : "{" + labels + "} ") + number(value));
  }
  std::set<std::string> used;
  for (auto& [key, f] : families) {
    if (f.samples.empty()) continue;
    std::string base = sanitize(f.ns + "_" + f.name);
    std::string name = base;
    for (int i = 2; used.count(name); ++i) name = base + "_" + std::to_string(i);
    used.insert(name);
    if (f.counter) name += "_total";
    std::string help =
        "CloudWatch metric namespace=" + f.ns + " name=" + f.name +
        (f.counter ? " (Sum of every retained datapoint)" : " (Average of the latest minute)");
    if (!f.label_names.empty()) {
      help += "; dimensions:";
      for (const auto& [orig, ln] : f.label_names) help += " " + ln + "=" + orig;
    }
    out += "# HELP " + name + " " + help_escape(help) + "\n";
    out += "# TYPE " + name + (f.counter ? " counter\n" : " gauge\n");
    for (const auto& s : f.samples) out += name + s + "\n";
  }
}

void render_server(const LocalMetricsContext& c, std::string& out) {
  if (c.gateway) c.gateway->render(out);

  const std::size_t depth = c.events.queue_depth();
  out +=
      "# HELP mailtally_queue_depth Messages accepted and not yet delivered.\n# TYPE "
      "mailtally_queue_depth gauge\n";
  out += "mailtally_queue_depth " + std::to_string(depth) + "\n";

  const std::int64_t position = c.events.cursor("", "").value_or(0);
  out +=
      "# HELP mailtally_events_dispatched_total Event log records the dispatcher has handed to "
      "destinations (its position in the log).\n# TYPE mailtally_events_dispatched_total "
      "counter\n";
  out += "mailtally_events_dispatched_total " + std::to_string(position) + "\n";

  out +=
      "# HELP mailtally_datapoints_published_total AWS/SES datapoints put by the CloudWatch sink "
      "since the server started.\n# TYPE mailtally_datapoints_published_total counter\n";
  out += "mailtally_datapoints_published_total " + std::to_string(c.sink.datapoints_published()) +
         "\n";

  out +=
      "# HELP mailtally_datapoints_dropped_total Datapoints a CloudWatch destination did not "
      "publish, by reason.\n# TYPE mailtally_datapoints_dropped_total counter\n";
  for (const auto& d : c.ledger.drop_counts()) {
    auto slash = d.owner.find('/');
    std::string set = d.owner.substr(0, slash);
    std::string dest = slash == std::string::npos ? "" : d.owner.substr(slash + 1);
    out += "mailtally_datapoints_dropped_total{reason=\"" + prometheus_escape(d.reason) +
           "\",configuration_set=\"" + prometheus_escape(set) + "\",event_destination=\"" +
           prometheus_escape(dest) + "\"} " + std::to_string(d.count) + "\n";
  }

  out +=
      "# HELP mailtally_metric_series Series in the metrics store.\n# TYPE mailtally_metric_series "
      "gauge\n";
  out += "mailtally_metric_series " + std::to_string(c.store.series_count()) + "\n";
}

}  // namespace

std::string prometheus_exposition(const LocalMetricsContext& c) {
  std::string out;
  render_series(c, out);
  render_server(c, out);
  return out;
}

}  // namespace mailtally::services
