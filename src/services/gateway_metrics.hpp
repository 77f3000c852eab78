// The gateway's own request metrics for GET /metrics: requests, errors and a latency histogram
// per operation. Lock-free: a fixed open-addressed table of slots keyed by the (static)
// wire::Operation, claimed with one compare-and-swap; counters are relaxed atomics.
//
// Threading: observe() from any number of worker threads; render() from any thread (a scrape
// reads each counter atomically, not the table as one snapshot).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "services/gateway.hpp"

namespace mailtally::services {

class GatewayMetrics final : public RequestObserver {
 public:
  // Upper bounds of the latency buckets, seconds (plus +Inf).
  static constexpr std::array<double, 16> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                      1,      2.5,     5,      10};
  static constexpr std::size_t kSlots = 512;  // more operations than every model here has

  void observe(const wire::Service* service, const wire::Operation* operation, int status,
               std::chrono::nanoseconds elapsed) noexcept override;

  // Appends the Prometheus text families mailtally_http_requests_total,
  // mailtally_http_request_errors_total and mailtally_http_request_duration_seconds.
  void render(std::string& out) const;

 private:
  struct Slot {
    std::atomic<const wire::Operation*> operation{nullptr};
    std::atomic<const wire::Service*> service{nullptr};
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> nanos{0};
    std::array<std::atomic<std::uint64_t>, kBuckets.size()> buckets{};  // not cumulative
  };
  Slot* slot_for(const wire::Operation* operation) noexcept;
  static void record(Slot& s, int status, std::chrono::nanoseconds elapsed) noexcept;

  std::array<Slot, kSlots> slots_{};
  Slot unrouted_;  // requests the gateway could not route (label operation="unknown")
};

// Prometheus label value escaping (backslash, double quote, newline).
std::string prometheus_escape(std::string_view value);

}  // namespace mailtally::services
