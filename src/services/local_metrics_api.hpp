// Local endpoints for what CloudWatch cannot do (docs/local-api.md), JSON over HTTP without
// request signing, like the other /_mailtally/ endpoints — bind the server to a trusted
// interface:
//   GET  /_mailtally/metrics/cost?price=          series per CloudWatch destination, monthly
//                                                 cost estimate, the dimension driving it, caps
//   GET  /_mailtally/metrics/caps                 caps in force
//   PUT  /_mailtally/metrics/caps/<set>/<dest>    {"cap": N} or {"cap": null}
//   GET  /_mailtally/metrics/rollup?...           a metric summed over a subset of dimensions
//   POST /_mailtally/metrics/replay               {"configurationSet", "eventDestination",
//                                                  "start", "end"}: backfill, idempotent
//   GET  /_mailtally/metrics/diagnostics?limit=   datapoints not published, with examples
//   GET  /metrics                                 Prometheus text exposition
//
// Thread-safe: every handler may run on several worker threads at once.
#pragma once

#include "base/clock.hpp"
#include "destinations/cloudwatch_sink.hpp"
#include "domain/sending_store.hpp"
#include "domain/store.hpp"
#include "http/message.hpp"
#include "metrics/metric_store.hpp"
#include "metrics/publishing_ledger.hpp"
#include "services/gateway_metrics.hpp"

namespace mailtally::services {

inline constexpr double kDefaultPricePerMetric = 0.30;  // USD per metric and month

struct LocalMetricsContext {
  domain::SendingStore& events;
  domain::ConfigStore& config;
  metrics::MetricStore& store;
  metrics::PublishingLedger& ledger;
  destinations::CloudWatchSink& sink;
  const GatewayMetrics* gateway = nullptr;  // nullptr: no request metrics in /metrics
  const base::Clock& clock;
  double price_per_metric = kDefaultPricePerMetric;
};

// True for /metrics and paths under /_mailtally/metrics/.
bool is_local_metrics_request(const http::Request& request);

// Answers such a request (404 JSON for unknown paths, 405 for wrong methods, 400 for bad
// parameters). Everything in `context` must outlive the call.
http::Response handle_local_metrics(const LocalMetricsContext& context,
                                    const http::Request& request);

// The Prometheus text exposition of every stored series and the server's own metrics
// (services/prometheus_exposition.cpp).
std::string prometheus_exposition(const LocalMetricsContext& context);

}  // namespace mailtally::services
