#include "services/gateway_metrics.hpp"

#include <cstdio>
#include <functional>

namespace mailtally::services {

std::string prometheus_escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

GatewayMetrics::Slot* GatewayMetrics::slot_for(const wire::Operation* op) noexcept {
  std::size_t h = std::hash<const void*>{}(op) % kSlots;
  for (std::size_t probe = 0; probe < kSlots; ++probe) {
    Slot& s = slots_[(h + probe) % kSlots];
    const wire::Operation* cur = s.operation.load(std::memory_order_acquire);
    if (cur == op) return &s;
    if (cur == nullptr) {
      if (s.operation.compare_exchange_strong(cur, op, std::memory_order_acq_rel)) return &s;
      if (cur == op) return &s;
    }
  }
  return nullptr;  // table full: counted as unrouted
}

void GatewayMetrics::record(Slot& s, int status, std::chrono::nanoseconds elapsed) noexcept {
  s.requests.fetch_add(1, std::memory_order_relaxed);
  if (status >= 400) s.errors.fetch_add(1, std::memory_order_relaxed);
  const auto ns = static_cast<std::uint64_t>(elapsed.count() < 0 ? 0 : elapsed.count());
  s.nanos.fetch_add(ns, std::memory_order_relaxed);
  const double seconds = static_cast<double>(ns) / 1e9;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      s.buckets[i].fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  // Beyond the last bucket: only in +Inf (= requests).
}

void GatewayMetrics::observe(const wire::Service* service, const wire::Operation* operation,
                             int status, std::chrono::nanoseconds elapsed) noexcept {
  Slot* s = operation ? slot_for(operation) : nullptr;
  if (s == nullptr) {
    record(unrouted_, status, elapsed);
    return;
  }
  if (s->service.load(std::memory_order_relaxed) == nullptr) {
    s->service.store(service, std::memory_order_release);
  }
  record(*s, status, elapsed);
}

void GatewayMetrics::render(std::string& out) const {
  struct Row {
    std::string labels;
    const Slot* slot;
  };
  std::vector<Row> rows;
  for (const Slot& s : slots_) {
    const wire::Operation* op = s.operation.load(std::memory_order_acquire);
    const wire::Service* svc = s.service.load(std::memory_order_acquire);
    if (!op || !svc) continue;
    rows.push_back({"service=\"" + prometheus_escape(svc->service_id) + "\",operation=\"" +
                        prometheus_escape(op->name) + "\"",
                    &s});
  }
  rows.push_back({"service=\"unknown\",operation=\"unknown\"", &unrouted_});
  char num[64];
  out += "# HELP mailtally_http_requests_total AWS API requests answered by the gateway.\n";
  out += "# TYPE mailtally_http_requests_total counter\n";
  for (const auto& r : rows) {
    out += "mailtally_http_requests_total{" + r.labels + "} " +
           std::to_string(r.slot->requests.load(std::memory_order_relaxed)) + "\n";
  }
  out += "# HELP mailtally_http_request_errors_total Gateway answers with HTTP status >= 400.\n";
  out += "# TYPE mailtally_http_request_errors_total counter\n";
  for (const auto& r : rows) {
    out += "mailtally_http_request_errors_total{" + r.labels + "} " +
           std::to_string(r.slot->errors.load(std::memory_order_relaxed)) + "\n";
  }
  out +=
      "# HELP mailtally_http_request_duration_seconds Time from routing to the encoded answer.\n";
  out += "# TYPE mailtally_http_request_duration_seconds histogram\n";
  for (const auto& r : rows) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += r.slot->buckets[i].load(std::memory_order_relaxed);
      std::snprintf(num, sizeof num, "%g", kBuckets[i]);
      out += "mailtally_http_request_duration_seconds_bucket{" + r.labels + ",le=\"" + num +
             "\"} " + std::to_string(cumulative) + "\n";
    }
    const std::uint64_t count = r.slot->requests.load(std::memory_order_relaxed);
    // A request counted in `requests` but whose bucket add is not visible yet must not make
    // +Inf smaller than the last bucket.
    out += "mailtally_http_request_duration_seconds_bucket{" + r.labels + ",le=\"+Inf\"} " +
           std::to_string(std::max(count, cumulative)) + "\n";
    std::snprintf(num, sizeof num, "%.9f",
                  static_cast<double>(r.slot->nanos.load(std::memory_order_relaxed)) / 1e9);
    out += "mailtally_http_request_duration_seconds_sum{" + r.labels + "} " + num + "\n";
    out += "mailtally_http_request_duration_seconds_count{" + r.labels + "} " +
           std::to_string(std::max(count, cumulative)) + "\n";
  }
}

}  // namespace mailtally::services
