#include "services/gateway_metrics.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "wire/model.hpp"

namespace mailtally::services {
namespace {

TEST(GatewayMetrics, CountsPerOperationFromManyThreadsAndRendersAHistogram) {
  GatewayMetrics m;
  const wire::Service& ses = wire::ses_v1_model();
  const wire::Operation* send = ses.find_operation("SendEmail");
  const wire::Operation* list = ses.find_operation("ListConfigurationSets");
  ASSERT_TRUE(send && list);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        m.observe(&ses, send, 200, std::chrono::microseconds(300));
        if (i % 10 == 0) m.observe(&ses, list, 400, std::chrono::milliseconds(20));
      }
    });
  }
  for (auto& t : threads) t.join();
  m.observe(nullptr, nullptr, 404, std::chrono::seconds(30));  // unrouted, beyond every bucket
  std::string out;
  m.render(out);
  EXPECT_NE(out.find("mailtally_http_requests_total{service=\"SES\",operation=\"SendEmail\"} "
                     "4000\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("mailtally_http_request_errors_total{service=\"SES\",operation="
                     "\"ListConfigurationSets\"} 400\n"),
            std::string::npos);
  // 0.3 ms lands in the 0.5 ms bucket (cumulative), not in the 0.25 ms one.
  EXPECT_NE(out.find("operation=\"SendEmail\",le=\"0.00025\"} 0\n"), std::string::npos);
  EXPECT_NE(out.find("operation=\"SendEmail\",le=\"0.0005\"} 4000\n"), std::string::npos);
  EXPECT_NE(out.find("operation=\"SendEmail\",le=\"+Inf\"} 4000\n"), std::string::npos);
  EXPECT_NE(out.find("operation=\"unknown\",le=\"10\"} 0\n"), std::string::npos);
  EXPECT_NE(out.find("operation=\"unknown\",le=\"+Inf\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("# TYPE mailtally_http_request_duration_seconds histogram"),
            std::string::npos);
}

TEST(GatewayMetrics, EscapesLabelValues) {
  EXPECT_EQ(prometheus_escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace mailtally::services
