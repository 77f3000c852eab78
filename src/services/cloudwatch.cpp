// CloudWatch (Query / JSON 1.0, 2010-08-01): registration, shared checks and ListMetrics.
// PutMetricData is in cloudwatch_put.cpp, GetMetricStatistics and GetMetricData in
// cloudwatch_get.cpp.
#include "services/cloudwatch.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "services/cloudwatch_internal.hpp"
#include "services/doc.hpp"
#include "wire/model.hpp"

namespace mailtally::services {
namespace cloudwatch {

wire::ApiError invalid_value(std::string message) {
  return wire::model_error(wire::cloudwatch_model(), "InvalidParameterValueException",
                           std::move(message));
}
wire::ApiError missing_parameter(std::string message) {
  return wire::model_error(wire::cloudwatch_model(), "MissingRequiredParameterException",
                           std::move(message));
}
wire::ApiError invalid_combination(std::string message) {
  return wire::model_error(wire::cloudwatch_model(), "InvalidParameterCombinationException",
                           std::move(message));
}
wire::ApiError invalid_next_token(std::string message) {
  return wire::model_error(wire::cloudwatch_model(), "InvalidNextToken", std::move(message));
}

wire::ApiError invalid_parameter(std::string_view value, std::string_view path,
                                 std::string_view why) {
  std::string msg = "The value " + std::string(value.substr(0, 256)) + " for parameter " +
                    std::string(path) + " is invalid.";
  if (!why.empty()) msg += " " + std::string(why);
  return invalid_value(std::move(msg));
}

std::int64_t now_seconds(const base::Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
}

std::string member_path(std::string_view list, std::size_t i) {
  return std::string(list) + ".member." + std::to_string(i);
}

namespace {

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}
bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

}  // namespace

base::Expected<std::vector<metrics::Dimension>, wire::ApiError> read_dimensions(
    const json::object& in, const std::string& path) {
  std::vector<metrics::Dimension> dims;
  const json::array* list = doc::arr(in, "Dimensions");
  if (list == nullptr) return dims;
  if (list->size() > metrics::kMaxDimensions) {
    return fail(invalid_value("The collection " + path + " must not have a size greater than " +
                              std::to_string(metrics::kMaxDimensions) + "."));
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    std::string at = member_path(path, i + 1);
    const json::object* d = (*list)[i].if_object();
    if (d == nullptr || !doc::opt_str(*d, "Name")) {
      return fail(missing_parameter("The parameter " + at + ".Name is required."));
    }
    if (!doc::opt_str(*d, "Value")) {
      return fail(missing_parameter("The parameter " + at + ".Value is required."));
    }
    std::string name = doc::str(*d, "Name");
    std::string value = doc::str(*d, "Value");
    if (name.empty() || name.size() > 255 || !printable_ascii(name) || blank(name) ||
        name[0] == ':') {
      return fail(invalid_parameter(name, at + ".Name",
                                    "Dimension names are 1 to 255 printable ASCII characters, "
                                    "not all blank, not starting with ':'."));
    }
    if (value.empty() || value.size() > 1024 || !printable_ascii(value) || blank(value)) {
      return fail(invalid_parameter(value, at + ".Value",
                                    "Dimension values are 1 to 1024 printable ASCII characters, "
                                    "not all blank."));
    }
    for (const auto& seen : dims) {
      if (seen.name == name) {
        return fail(invalid_value("The collection " + path +
                                  " must not contain duplicate dimension names (" + name + ")."));
      }
    }
    dims.push_back({std::move(name), std::move(value)});
  }
  return dims;
}

base::Expected<metrics::MetricKey, wire::ApiError> read_metric(const json::object& in,
                                                               const std::string& prefix) {
  metrics::MetricKey key;
  auto ns = doc::opt_str(in, "Namespace");
  auto name = doc::opt_str(in, "MetricName");
  if (!ns) return fail(missing_parameter("The parameter " + prefix + "Namespace is required."));
  if (!name) return fail(missing_parameter("The parameter " + prefix + "MetricName is required."));
  key.ns = std::move(*ns);
  key.name = std::move(*name);
  auto dims = read_dimensions(in, prefix + "Dimensions");
  if (!dims) return fail(std::move(dims).error());
  key.dimensions = std::move(*dims);
  metrics::normalize(key);
  return key;
}

Output list_metrics(const metrics::MetricStore& store, const json::object& in) {
  metrics::ListFilter filter;
  filter.ns = doc::opt_str(in, "Namespace");
  filter.name = doc::opt_str(in, "MetricName");
  if (const json::array* list = doc::arr(in, "Dimensions")) {
    if (list->size() > 10) {
      return fail(invalid_value("The collection Dimensions must not have a size greater than 10."));
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const json::object* d = (*list)[i].if_object();
      if (d == nullptr || !doc::opt_str(*d, "Name")) {
        return fail(missing_parameter("The parameter " + member_path("Dimensions", i + 1) +
                                      ".Name is required."));
      }
      filter.dimensions.push_back({doc::str(*d, "Name"), doc::opt_str(*d, "Value")});
    }
  }
  if (auto active = doc::opt_str(in, "RecentlyActive")) {
    if (*active != "PT3H") return fail(invalid_parameter(*active, "RecentlyActive"));
    filter.recently_active = true;
  }
  filter.next_token = doc::opt_str(in, "NextToken");
  auto page = store.list_metrics(filter);
  if (!page) return fail(invalid_parameter(*filter.next_token, "NextToken"));

  json::array metrics;
  for (const auto& m : page->metrics) {
    json::array dims;
    for (const auto& d : m.dimensions) {
      dims.push_back(json::object{{"Name", d.name}, {"Value", d.value}});
    }
    metrics.push_back(
        json::object{{"Namespace", m.ns}, {"MetricName", m.name}, {"Dimensions", std::move(dims)}});
  }
  json::object out{{"Metrics", std::move(metrics)}};
  if (page->next_token) out["NextToken"] = *page->next_token;
  return out;
}

namespace {

// Storage failures become CloudWatch's InternalServiceError (500) rather than escaping.
template <class F>
OperationHandler guarded(F f) {
  return [f = std::move(f)](const CallContext&, const json::object& in) -> Output {
    try {
      return f(in);
    } catch (const std::exception& e) {
      return fail(wire::model_error(wire::cloudwatch_model(), "InternalServiceFault",
                                    std::string("internal error: ") + e.what()));
    }
  };
}

}  // namespace
}  // namespace cloudwatch

void register_cloudwatch(OperationTable& table, metrics::MetricStore& store,
                         const base::Clock& clock) {
  namespace cw = cloudwatch;
  const wire::Service& m = wire::cloudwatch_model();
  table.add(m, "PutMetricData", cw::guarded([&store, &clock](const cw::json::object& in) {
              return cw::put_metric_data(store, clock, in);
            }));
  table.add(m, "ListMetrics", cw::guarded([&store](const cw::json::object& in) {
              return cw::list_metrics(store, in);
            }));
  table.add(m, "GetMetricStatistics", cw::guarded([&store, &clock](const cw::json::object& in) {
              return cw::get_metric_statistics(store, clock, in);
            }));
  table.add(m, "GetMetricData", cw::guarded([&store, &clock](const cw::json::object& in) {
              return cw::get_metric_data(store, clock, in);
            }));
}

}  // namespace mailtally::services
