// The CloudWatch provider (API version 2010-08-01): PutMetricData, ListMetrics,
// GetMetricStatistics and GetMetricData over a metrics::MetricStore, with CloudWatch's own
// validation, limits and time rules (docs: ../shared/spec/ses-event-publishing.md §9).
// Namespaces starting with "AWS/" are refused to clients; the server publishes AWS/SES through
// the store directly.
#pragma once

#include "base/clock.hpp"
#include "metrics/metric_store.hpp"
#include "services/operation_table.hpp"

namespace mailtally::services {

// Registers the four operations for wire::cloudwatch_model(). `store` and `clock` must outlive
// the table. Handlers are thread-safe (the store is).
void register_cloudwatch(OperationTable& table, metrics::MetricStore& store,
                         const base::Clock& clock);

}  // namespace mailtally::services
