// CloudWatch PutMetricData: every datum is checked against CloudWatch's rules before any is
// stored; the batch is then stored in one transaction (all or nothing).
#include <cmath>
#include <cstdio>

#include "metrics/rules.hpp"
#include "services/cloudwatch_internal.hpp"
#include "services/doc.hpp"

namespace mailtally::services::cloudwatch {
namespace {

constexpr std::size_t kMaxDatums = 1000;
constexpr std::size_t kMaxValues = 150;
const double kMaxMagnitude = std::ldexp(1.0, 360);
const double kMinMagnitude = std::ldexp(1.0, -360);

std::string show(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// CloudWatch accepts finite values with magnitude in [2^-360, 2^360], and zero.
bool storable_value(double v) {
  if (!std::isfinite(v)) return false;
  double m = std::fabs(v);
  return m == 0 || (m >= kMinMagnitude && m <= kMaxMagnitude);
}

bool valid_namespace(std::string_view ns) {
  if (ns.empty() || ns.size() > 255 || ns[0] == ':') return false;
  bool non_blank = false;
  for (char c : ns) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == '-' || c == '_' || c == '/' || c == '#' || c == ':' || c == ' ';
    if (!ok) return false;
    non_blank = non_blank || c != ' ';
  }
  return non_blank;
}

bool valid_metric_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  bool non_blank = false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
    non_blank = non_blank || c != ' ';
  }
  return non_blank;
}

base::Expected<std::vector<double>, wire::ApiError> read_numbers(const json::object& in,
                                                                 std::string_view member,
                                                                 const std::string& at) {
  std::vector<double> out;
  const json::array* list = doc::arr(in, member);
  if (list == nullptr) return out;
  std::string path = at + "." + std::string(member);
  if (list->size() > kMaxValues) {
    return fail(invalid_value("The collection " + path + " must not have a size greater than " +
                              std::to_string(kMaxValues) + "."));
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json::value& v = (*list)[i];
    double d = v.is_number() ? v.to_number<double>() : std::nan("");
    if (!storable_value(d)) return fail(invalid_parameter(show(d), member_path(path, i + 1)));
    out.push_back(d);
  }
  return out;
}

base::Expected<metrics::StatisticSet, wire::ApiError> read_statistic_set(const json::object& s,
                                                                         const std::string& at) {
  metrics::StatisticSet set;
  struct Member {
    const char* name;
    double* target;
  };
  for (const Member& m : {Member{"SampleCount", &set.sample_count}, Member{"Sum", &set.sum},
                          Member{"Minimum", &set.minimum}, Member{"Maximum", &set.maximum}}) {
    auto v = doc::opt_number(s, m.name);
    std::string path = at + ".StatisticValues." + m.name;
    if (!v) return fail(missing_parameter("The parameter " + path + " is required."));
    if (!storable_value(*v)) return fail(invalid_parameter(show(*v), path));
    *m.target = *v;
  }
  if (!(set.sample_count > 0)) {
    return fail(invalid_parameter(show(set.sample_count), at + ".StatisticValues.SampleCount",
                                  "SampleCount must be greater than 0."));
  }
  if (set.minimum > set.maximum) {
    return fail(invalid_combination("The parameters " + at + ".StatisticValues.Minimum and " + at +
                                    ".StatisticValues.Maximum are inconsistent: Minimum is "
                                    "greater than Maximum."));
  }
  return set;
}

// One MetricDatum as a store datum, or the error CloudWatch answers for it.
base::Expected<metrics::Datum, wire::ApiError> read_datum(const json::object& d,
                                                          const std::string& ns, std::size_t index,
                                                          std::int64_t now) {
  const std::string at = member_path("MetricData", index);
  metrics::Datum datum;
  auto name = doc::opt_str(d, "MetricName");
  if (!name) return fail(missing_parameter("The parameter " + at + ".MetricName is required."));
  if (!valid_metric_name(*name)) return fail(invalid_parameter(*name, at + ".MetricName"));
  auto dims = read_dimensions(d, at + ".Dimensions");
  if (!dims) return fail(std::move(dims).error());
  datum.series.metric = metrics::MetricKey{ns, std::move(*name), std::move(*dims)};
  datum.series.unit = doc::opt_str(d, "Unit").value_or(std::string(metrics::kNoUnit));

  datum.timestamp = doc::opt_number(d, "Timestamp").value_or(static_cast<double>(now));
  if (datum.timestamp < static_cast<double>(now - metrics::rules::kMaxPastTimestamp)) {
    return fail(
        invalid_value("The parameter " + at +
                      ".Timestamp must specify a time no more than two weeks in the past."));
  }
  if (datum.timestamp > static_cast<double>(now + metrics::rules::kMaxFutureTimestamp)) {
    return fail(invalid_value("The parameter " + at +
                              ".Timestamp must specify a time no more than two hours in the "
                              "future."));
  }
  auto resolution = doc::opt_int(d, "StorageResolution").value_or(60);
  if (resolution != 1 && resolution != 60) {
    return fail(invalid_parameter(std::to_string(resolution), at + ".StorageResolution",
                                  "StorageResolution must be 1 or 60."));
  }
  datum.storage_resolution = static_cast<int>(resolution);

  const bool has_value = d.contains("Value");
  const json::array* values_list = doc::arr(d, "Values");
  const bool has_values = values_list != nullptr && !values_list->empty();
  const bool has_counts = doc::arr(d, "Counts") != nullptr && !doc::arr(d, "Counts")->empty();
  const json::object* stats = doc::obj(d, "StatisticValues");
  auto exclusive = [&](const char* a, const char* b) {
    return invalid_combination("The parameters " + at + "." + a + " and " + at + "." + b +
                               " are mutually exclusive and you have specified both.");
  };
  if (has_value && has_values) return fail(exclusive("Value", "Values"));
  if (has_value && stats) return fail(exclusive("Value", "StatisticValues"));
  if (has_values && stats) return fail(exclusive("Values", "StatisticValues"));
  if (has_counts && !has_values) {
    return fail(invalid_combination("The parameter " + at + ".Counts requires " + at + ".Values."));
  }
  if (has_value) {
    auto v = doc::opt_number(d, "Value");
    double x = v.value_or(std::nan(""));
    if (!storable_value(x)) return fail(invalid_parameter(show(x), at + ".Value"));
    datum.value = x;
  } else if (has_values) {
    auto values = read_numbers(d, "Values", at);
    if (!values) return fail(std::move(values).error());
    auto counts = read_numbers(d, "Counts", at);
    if (!counts) return fail(std::move(counts).error());
    if (!counts->empty() && counts->size() != values->size()) {
      return fail(invalid_value("The parameters " + at + ".Values and " + at +
                                ".Counts must be of the same size."));
    }
    for (std::size_t i = 0; i < counts->size(); ++i) {
      if ((*counts)[i] < 0) {
        return fail(invalid_parameter(show((*counts)[i]), member_path(at + ".Counts", i + 1),
                                      "Counts must not be negative."));
      }
    }
    datum.value = metrics::ValueList{std::move(*values), std::move(*counts)};
  } else if (stats) {
    auto set = read_statistic_set(*stats, at);
    if (!set) return fail(std::move(set).error());
    datum.value = *set;
  } else {
    return fail(invalid_combination("At least one of the parameters " + at + ".Value, " + at +
                                    ".Values or " + at + ".StatisticValues must be specified."));
  }
  return datum;
}

}  // namespace

Output put_metric_data(metrics::MetricStore& store, const base::Clock& clock,
                       const json::object& in) {
  auto ns = doc::opt_str(in, "Namespace");
  if (!ns) return fail(missing_parameter("The parameter Namespace is required."));
  if (!valid_namespace(*ns)) return fail(invalid_parameter(*ns, "Namespace"));
  if (ns->rfind("AWS/", 0) == 0) {
    return fail(invalid_parameter(*ns, "Namespace",
                                  "Namespaces starting with AWS/ are reserved for AWS services."));
  }
  const json::array* list = doc::arr(in, "MetricData");
  if (list == nullptr || list->empty()) {
    return fail(missing_parameter("The parameter MetricData is required."));
  }
  if (list->size() > kMaxDatums) {
    return fail(invalid_value("The collection MetricData must not have a size greater than " +
                              std::to_string(kMaxDatums) + "."));
  }
  const std::int64_t now = now_seconds(clock);
  std::vector<metrics::Datum> data;
  data.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json::object* d = (*list)[i].if_object();
    if (d == nullptr) {
      return fail(missing_parameter("The parameter " + member_path("MetricData", i + 1) +
                                    ".MetricName is required."));
    }
    auto datum = read_datum(*d, *ns, i + 1, now);
    if (!datum) return fail(std::move(datum).error());
    data.push_back(std::move(*datum));
  }
  store.put(data);
  return json::object();
}

}  // namespace mailtally::services::cloudwatch
