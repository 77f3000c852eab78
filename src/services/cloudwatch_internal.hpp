// Internal to the CloudWatch provider (cloudwatch*.cpp): the error helpers, CloudWatch's name
// rules, and the per-operation handlers that cloudwatch.cpp registers.
//
// Parameter paths in messages use the Query protocol's names (MetricData.member.1.Value), as
// CloudWatch's own messages do, whatever protocol the caller used.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "base/expected.hpp"
#include "metrics/expression.hpp"
#include "metrics/metric_store.hpp"
#include "metrics/statistic.hpp"
#include "services/operation_table.hpp"
#include "wire/api_error.hpp"

namespace mailtally::services::cloudwatch {

namespace json = boost::json;

// InvalidParameterValue, MissingParameter, InvalidParameterCombination, InvalidNextToken.
wire::ApiError invalid_value(std::string message);
wire::ApiError missing_parameter(std::string message);
wire::ApiError invalid_combination(std::string message);
wire::ApiError invalid_next_token(std::string message);
inline base::Unexpected<wire::ApiError> fail(wire::ApiError e) {
  return base::unexpected(std::move(e));
}
// "The value <v> for parameter <path> is invalid." (+ " <why>" when given).
wire::ApiError invalid_parameter(std::string_view value, std::string_view path,
                                 std::string_view why = {});

std::int64_t now_seconds(const base::Clock& clock);

// A member path: join("MetricData", 3) -> "MetricData.member.3".
std::string member_path(std::string_view list, std::size_t one_based_index);

// The `Dimensions` list of `in` (if any), checked as CloudWatch checks dimensions: at most 30,
// names 1-255 and values 1-1024 printable ASCII with a non-blank character, names not starting
// with ':' and not repeated. `path` names the list ("MetricData.member.1.Dimensions").
base::Expected<std::vector<metrics::Dimension>, wire::ApiError> read_dimensions(
    const json::object& in, const std::string& path);

// Namespace, metric name and (optional) dimensions of `in`: a metric key for reading.
base::Expected<metrics::MetricKey, wire::ApiError> read_metric(const json::object& in,
                                                               const std::string& prefix);

// A MetricStat: one statistic of one metric per period.
struct StatRequest {
  metrics::MetricKey metric;
  std::optional<std::string> unit;
  std::int64_t period = 60;
  metrics::Statistic stat;
};

// Checks Period as CloudWatch does; `path` names the parameter.
std::optional<wire::ApiError> check_period(std::optional<std::int64_t> period,
                                           const std::string& path);

// The statistic's datapoints over [start, end), after CloudWatch's StartTime rounding and
// retention (across units when none is given), ascending. Periods without a value (no data, or
// a percentile that is unavailable) are left out.
metrics::expr::Series read_stat_series(const metrics::MetricStore& store, const StatRequest& r,
                                       double start, double end, std::int64_t now);

// ---- handlers ----
Output put_metric_data(metrics::MetricStore& store, const base::Clock& clock,
                       const json::object& in);
Output list_metrics(const metrics::MetricStore& store, const json::object& in);
Output get_metric_statistics(const metrics::MetricStore& store, const base::Clock& clock,
                             const json::object& in);
Output get_metric_data(const metrics::MetricStore& store, const base::Clock& clock,
                       const json::object& in);

}  // namespace mailtally::services::cloudwatch
