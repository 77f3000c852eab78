// The CloudWatch provider, driven through its OperationTable handlers with wire documents (and
// a few requests through the real Query / JSON decoders): CloudWatch's validation and limits,
// exact dimension matching, periods and rounding, percentiles, ListMetrics, GetMetricData.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>

#include "metrics/sqlite_metric_store.hpp"
#include "services/cloudwatch.hpp"
#include "wire/codec.hpp"

namespace mailtally::services {
namespace {

namespace json = boost::json;
constexpr std::int64_t kNow = 1'800'000'000;  // a whole hour
constexpr std::int64_t kDay = 86400;

class CloudWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cloudwatch_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = metrics::SqliteMetricStore::open((dir_ / "metrics.db").string(), clock_);
    register_cloudwatch(table_, *store_, clock_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Output call(std::string_view op, const json::object& in) {
    const OperationHandler* h = table_.find(wire::cloudwatch_model(), op);
    EXPECT_NE(h, nullptr) << op;
    auth::Identity who{{"AKIDEXAMPLE", "secret", "tester"}, "us-east-1", "monitoring"};
    http::Request req;
    CallContext ctx{who, req, "req-1", wire::cloudwatch_model()};
    return (*h)(ctx, in);
  }
  Output call(std::string_view op, std::string_view body) {
    return call(op, json::parse(body).as_object());
  }
  json::object ok(std::string_view op, std::string_view body) {
    auto out = call(op, body);
    EXPECT_TRUE(out.has_value()) << op << ": " << (out ? "" : out.error().message);
    return out ? *out : json::object();
  }
  // The error code (Query <Code>) of a failed call, or "" when it succeeded.
  std::string code(std::string_view op, std::string_view body) {
    auto out = call(op, body);
    return out ? "" : out.error().code;
  }
  std::string message(std::string_view op, std::string_view body) {
    auto out = call(op, body);
    return out ? "" : out.error().message;
  }

  // {"Namespace":"App","MetricData":[<datum>]} with the time fields filled.
  static std::string put_one(const std::string& datum, const std::string& ns = "App") {
    return R"({"Namespace":")" + ns + R"(","MetricData":[)" + datum + "]}";
  }
  static std::string t(std::int64_t offset) { return std::to_string(kNow + offset); }

  base::ManualClock clock_{base::TimePoint(std::chrono::seconds(kNow))};
  std::filesystem::path dir_;
  std::unique_ptr<metrics::SqliteMetricStore> store_;
  OperationTable table_;
};

TEST_F(CloudWatchTest, PutThenGetMetricStatistics) {
  ok("PutMetricData", put_one(R"({"MetricName":"Send","Dimensions":[{"Name":"campaign",
      "Value":"book"}],"Value":1,"Unit":"Count","Timestamp":)" +
                              t(-300) + "}"));
  ok("PutMetricData", put_one(R"({"MetricName":"Send","Dimensions":[{"Name":"campaign",
      "Value":"book"}],"Value":3,"Unit":"Count","Timestamp":)" +
                              t(-290) + "}"));
  auto out = ok("GetMetricStatistics",
                R"({"Namespace":"App","MetricName":"Send","Dimensions":[{"Name":"campaign",
      "Value":"book"}],"StartTime":)" +
                    t(-3600) + R"(,"EndTime":)" + t(0) +
                    R"(,"Period":3600,"Statistics":["Sum","Average","SampleCount","Minimum",
      "Maximum"]})");
  EXPECT_EQ(out.at("Label").as_string(), "Send");
  const auto& points = out.at("Datapoints").as_array();
  ASSERT_EQ(points.size(), 1u);
  const auto& p = points[0].as_object();
  EXPECT_DOUBLE_EQ(p.at("Timestamp").as_double(), double(kNow - 3600));
  EXPECT_DOUBLE_EQ(p.at("Sum").as_double(), 4);
  EXPECT_DOUBLE_EQ(p.at("Average").as_double(), 2);
  EXPECT_DOUBLE_EQ(p.at("SampleCount").as_double(), 2);
  EXPECT_DOUBLE_EQ(p.at("Minimum").as_double(), 1);
  EXPECT_DOUBLE_EQ(p.at("Maximum").as_double(), 3);
  EXPECT_EQ(p.at("Unit").as_string(), "Count");
}

TEST_F(CloudWatchTest, MetricsAreRetrievableOnlyByTheirFullDimensionSet) {
  ok("PutMetricData", put_one(R"({"MetricName":"Send","Dimensions":[{"Name":"campaign",
      "Value":"book"},{"Name":"genre","Value":"sf"},{"Name":"ses:from-domain",
      "Value":"x.com"}],"Value":1})"));
  auto get = [&](const std::string& dims) {
    return ok("GetMetricStatistics", R"({"Namespace":"App","MetricName":"Send","Dimensions":)" +
                                         dims + R"(,"StartTime":)" + t(-600) + R"(,"EndTime":)" +
                                         t(60) + R"(,"Period":600,"Statistics":["Sum"]})")
        .at("Datapoints")
        .as_array()
        .size();
  };
  EXPECT_EQ(get(R"([{"Name":"campaign","Value":"book"},{"Name":"genre","Value":"sf"}])"), 0u);
  EXPECT_EQ(get(R"([])"), 0u);
  EXPECT_EQ(get(R"([{"Name":"genre","Value":"sf"},{"Name":"ses:from-domain","Value":"x.com"},
      {"Name":"campaign","Value":"book"}])"),
            1u);
}

TEST_F(CloudWatchTest, PutMetricDataValidation) {
  const std::string ts = R"(,"Timestamp":)" + t(-60);
  struct Case {
    std::string body;
    const char* code;
  };
  std::string dims31 = "[";
  for (int i = 0; i < 31; ++i) {
    dims31 +=
        (i ? "," : "") + std::string(R"({"Name":"d)") + std::to_string(i) + R"(","Value":"v"})";
  }
  dims31 += "]";
  std::string many = "[";
  for (int i = 0; i < 1001; ++i) {
    many += (i ? "," : "") + std::string(R"({"MetricName":"m","Value":1})");
  }
  many += "]";
  std::string values151 = "[";
  for (int i = 0; i < 151; ++i) values151 += (i ? "," : "") + std::to_string(i);
  values151 += "]";
  const Case cases[] = {
      {put_one(R"({"MetricName":"m","Value":1})", "AWS/SES"), "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":1})", "bad*ns"), "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":1})", ":ns"), "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":"NaN"})"), "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":"Infinity"})"), "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":1e300})"), "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Values":[1,"-Infinity"]})"), "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":1,"StatisticValues":{"SampleCount":1,"Sum":1,
          "Minimum":1,"Maximum":1}})"),
       "InvalidParameterCombination"},
      {put_one(R"({"MetricName":"m","Value":1,"Values":[1]})"), "InvalidParameterCombination"},
      {put_one(R"({"MetricName":"m","Values":[1,2],"Counts":[1]})"), "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Counts":[1]})"), "InvalidParameterCombination"},
      {put_one(R"({"MetricName":"m","Values":)" + values151 + "}"), "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","StatisticValues":{"SampleCount":1,"Sum":1,"Minimum":1}})"),
       "MissingParameter"},
      {put_one(R"({"MetricName":"m"})"), "InvalidParameterCombination"},
      {put_one(R"({"MetricName":"m","Value":1,"StorageResolution":5})"), "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":1,"Dimensions":)" + dims31 + "}"),
       "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":1,"Dimensions":[{"Name":"d","Value":"caf\u00e9"}]})"),
       "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":1,"Dimensions":[{"Name":"d","Value":"  "}]})"),
       "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":1,"Dimensions":[{"Name":":d","Value":"x"}]})"),
       "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":1,"Dimensions":[{"Name":"d","Value":"x"},
          {"Name":"d","Value":"y"}]})"),
       "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":1,"Dimensions":[{"Name":"d"}]})"), "MissingParameter"},
      {put_one(R"({"MetricName":"m","Value":1,"Timestamp":)" + t(-15 * kDay) + "}"),
       "InvalidParameterValue"},
      {put_one(R"({"MetricName":"m","Value":1,"Timestamp":)" + t(3 * 3600) + "}"),
       "InvalidParameterValue"},
      {R"({"Namespace":"App","MetricData":)" + many + "}", "InvalidParameterValue"},
      {R"({"Namespace":"App","MetricData":[]})", "MissingParameter"},
  };
  for (const auto& c : cases) EXPECT_EQ(code("PutMetricData", c.body), c.code) << c.body;
  EXPECT_EQ(store_->series_count(), 0u);
  // The limits themselves are fine.
  std::string values150 = "[";
  for (int i = 0; i < 150; ++i) values150 += (i ? "," : "") + std::to_string(i);
  values150 += "]";
  ok("PutMetricData", put_one(R"({"MetricName":"m","Values":)" + values150 + ts + "}"));
  ok("PutMetricData", put_one(R"({"MetricName":"m","Value":-1.5)" + ts + R"(,"Dimensions":)" +
                              dims31.substr(0, dims31.rfind(",{")) + "]}"));
  ok("PutMetricData",
     put_one(R"({"MetricName":"m","Value":0,"Timestamp":)" + t(-14 * kDay + 1) + "}"));
  EXPECT_NE(message("PutMetricData", put_one(R"({"MetricName":"m","Value":"NaN"})"))
                .find("MetricData.member.1.Value"),
            std::string::npos);
}

TEST_F(CloudWatchTest, ValuesCountsAndStatisticSetsWithPercentiles) {
  ok("PutMetricData", put_one(R"({"MetricName":"Latency","Unit":"Milliseconds",
      "Values":[10,20,30,40],"Counts":[1,1,1,97],"Timestamp":)" +
                              t(-120) + "}"));
  ok("PutMetricData", put_one(R"({"MetricName":"Size","StatisticValues":{"SampleCount":4,
      "Sum":40,"Minimum":5,"Maximum":15},"Timestamp":)" +
                              t(-120) + "}"));
  auto lat = ok("GetMetricStatistics", R"({"Namespace":"App","MetricName":"Latency",
      "StartTime":)" + t(-600) + R"(,"EndTime":)" +
                                           t(0) +
                                           R"(,"Period":600,"ExtendedStatistics":["p50","p99.5",
      "p0"]})");
  const auto& p = lat.at("Datapoints").as_array().at(0).as_object();
  EXPECT_FALSE(p.contains("Sum"));
  EXPECT_DOUBLE_EQ(p.at("ExtendedStatistics").at("p50").as_double(), 40);
  EXPECT_DOUBLE_EQ(p.at("ExtendedStatistics").at("p0").as_double(), 10);
  EXPECT_EQ(p.at("Unit").as_string(), "Milliseconds");
  // A statistic set with Minimum != Maximum has no percentiles, but its statistics.
  auto size =
      ok("GetMetricStatistics", R"({"Namespace":"App","MetricName":"Size",
      "StartTime":)" + t(-600) + R"(,"EndTime":)" +
                                    t(0) + R"(,"Period":600,"ExtendedStatistics":["p50"]})");
  EXPECT_FALSE(size.at("Datapoints").as_array().at(0).as_object().contains("ExtendedStatistics"));
}

TEST_F(CloudWatchTest, GetMetricStatisticsValidation) {
  auto body = [&](const std::string& extra, std::int64_t start = -3600, std::int64_t end = 0) {
    return R"({"Namespace":"App","MetricName":"m","StartTime":)" + t(start) + R"(,"EndTime":)" +
           t(end) + "," + extra + "}";
  };
  EXPECT_EQ(code("GetMetricStatistics",
                 body(R"("Period":60,"Statistics":["Sum"],"ExtendedStatistics":["p90"])")),
            "InvalidParameterCombination");
  EXPECT_EQ(code("GetMetricStatistics", body(R"("Period":60)")), "InvalidParameterCombination");
  EXPECT_EQ(code("GetMetricStatistics", body(R"("Period":45,"Statistics":["Sum"])")),
            "InvalidParameterValue");
  EXPECT_EQ(code("GetMetricStatistics", body(R"("Period":0,"Statistics":["Sum"])")),
            "InvalidParameterValue");
  EXPECT_EQ(code("GetMetricStatistics", body(R"("Period":60,"ExtendedStatistics":["p101"])")),
            "InvalidParameterValue");
  EXPECT_EQ(code("GetMetricStatistics", body(R"("Period":60,"Statistics":["p99"])")),
            "InvalidParameterValue");
  EXPECT_EQ(code("GetMetricStatistics", body(R"("Period":60,"Statistics":["Sum"])", 0, -60)),
            "InvalidParameterValue");
  // 1,440 datapoints is the limit.
  EXPECT_EQ(code("GetMetricStatistics", body(R"("Period":60,"Statistics":["Sum"])", -kDay, 0)), "");
  EXPECT_EQ(code("GetMetricStatistics", body(R"("Period":60,"Statistics":["Sum"])", -kDay - 60, 0)),
            "InvalidParameterCombination");
  EXPECT_NE(
      message("GetMetricStatistics", body(R"("Period":60,"Statistics":["Sum"])", -2 * kDay, 0))
          .find("You have requested up to 2,880 datapoints, which exceeds the limit of "
                "1,440"),
      std::string::npos);
}

TEST_F(CloudWatchTest, StartTimeRoundingAndPeriodRules) {
  ok("PutMetricData", put_one(R"({"MetricName":"m","Value":5,"Timestamp":)" + t(-600) + "}"));
  auto get = [&](std::int64_t start, std::int64_t period) {
    return ok("GetMetricStatistics", R"({"Namespace":"App","MetricName":"m","StartTime":)" +
                                         t(start) + R"(,"EndTime":)" + t(0) + R"(,"Period":)" +
                                         std::to_string(period) + R"(,"Statistics":["Sum"]})")
        .at("Datapoints")
        .as_array();
  };
  // 34 s into the minute rounds down to the minute, so the datum at its start is included.
  auto points = get(-600 + 34, 60);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_DOUBLE_EQ(points[0].at("Timestamp").as_double(), double(kNow - 600));
  // Older than 3 hours with a sub-minute period: no datapoints (no error).
  clock_.advance(std::chrono::hours(4));
  EXPECT_TRUE(get(-600, 10).empty());
  EXPECT_EQ(get(-600, 600).size(), 1u);
}

TEST_F(CloudWatchTest, HighResolutionAndUnitFilter) {
  ok("PutMetricData", put_one(R"({"MetricName":"h","Value":1,"StorageResolution":1,
      "Unit":"Seconds","Timestamp":)" +
                              t(-25) + "}"));
  ok("PutMetricData", put_one(R"({"MetricName":"h","Value":2,"StorageResolution":1,
      "Unit":"Seconds","Timestamp":)" +
                              t(-14) + "}"));
  auto out = ok("GetMetricStatistics", R"({"Namespace":"App","MetricName":"h","StartTime":)" +
                                           t(-30) + R"(,"EndTime":)" + t(0) +
                                           R"(,"Period":10,"Statistics":["Sum"]})");
  ASSERT_EQ(out.at("Datapoints").as_array().size(), 2u);
  auto none = ok("GetMetricStatistics", R"({"Namespace":"App","MetricName":"h","StartTime":)" +
                                            t(-60) + R"(,"EndTime":)" + t(0) +
                                            R"(,"Period":60,"Unit":"Count","Statistics":["Sum"]})");
  EXPECT_TRUE(none.at("Datapoints").as_array().empty());
}

TEST_F(CloudWatchTest, ListMetrics) {
  ok("PutMetricData", put_one(R"({"MetricName":"Send","Dimensions":[{"Name":"campaign",
      "Value":"a"},{"Name":"genre","Value":"x"}],"Value":1},{"MetricName":"Send",
      "Dimensions":[{"Name":"campaign","Value":"b"}],"Value":1},{"MetricName":"Open",
      "Value":1})"));
  auto count = [&](const std::string& body) {
    return ok("ListMetrics", body).at("Metrics").as_array().size();
  };
  EXPECT_EQ(count("{}"), 3u);
  EXPECT_EQ(count(R"({"Namespace":"App","MetricName":"Send"})"), 2u);
  EXPECT_EQ(count(R"({"Dimensions":[{"Name":"campaign"}]})"), 2u);
  EXPECT_EQ(count(R"({"Dimensions":[{"Name":"campaign","Value":"a"}]})"), 1u);
  EXPECT_EQ(count(R"({"Dimensions":[{"Name":"genre"}],"RecentlyActive":"PT3H"})"), 1u);
  auto one = ok("ListMetrics", R"({"MetricName":"Open"})").at("Metrics").as_array();
  EXPECT_EQ(json::serialize(one), R"([{"Namespace":"App","MetricName":"Open","Dimensions":[]}])");
  EXPECT_EQ(code("ListMetrics", R"({"NextToken":"garbage"})"), "InvalidParameterValue");
  clock_.advance(std::chrono::hours(4));
  EXPECT_EQ(count(R"({"RecentlyActive":"PT3H"})"), 0u);
}

TEST_F(CloudWatchTest, ListMetricsPages) {
  std::string data = "[";
  for (int i = 0; i < 700; ++i) {
    data += (i ? "," : "") +
            std::string(R"({"MetricName":"M","Dimensions":[{"Name":"i","Value":")") +
            std::to_string(i) + R"("}],"Value":1})";
  }
  data += "]";
  ok("PutMetricData", R"({"Namespace":"App","MetricData":)" + data + "}");
  auto first = ok("ListMetrics", R"({"Namespace":"App"})");
  EXPECT_EQ(first.at("Metrics").as_array().size(), 500u);
  std::string token(first.at("NextToken").as_string());
  auto second = ok("ListMetrics", R"({"Namespace":"App","NextToken":")" + token + R"("})");
  EXPECT_EQ(second.at("Metrics").as_array().size(), 200u);
  EXPECT_FALSE(second.contains("NextToken"));
}

class GetMetricDataTest : public CloudWatchTest {
 protected:
  void SetUp() override {
    CloudWatchTest::SetUp();
    // m1: 1, 2, 3 at -180, -120, -60; m2: 10, 20 at -120, -60.
    ok("PutMetricData", put_one(R"({"MetricName":"A","Value":1,"Timestamp":)" + t(-180) +
                                R"(},{"MetricName":"A","Value":2,"Timestamp":)" + t(-120) +
                                R"(},{"MetricName":"A","Value":3,"Timestamp":)" + t(-60) +
                                R"(},{"MetricName":"B","Value":10,"Timestamp":)" + t(-120) +
                                R"(},{"MetricName":"B","Value":20,"Timestamp":)" + t(-60) + "}"));
  }
  static std::string stat(const std::string& id, const std::string& metric,
                          const std::string& extra = "") {
    return R"({"Id":")" + id + R"(","MetricStat":{"Metric":{"Namespace":"App","MetricName":")" +
           metric + R"("},"Period":60,"Stat":"Sum"})" + extra + "}";
  }
  static std::string request(const std::string& queries, const std::string& extra = "") {
    return R"({"MetricDataQueries":[)" + queries + R"(],"StartTime":)" + t(-600) +
           R"(,"EndTime":)" + t(0) + extra + "}";
  }
  static std::vector<double> values(const json::object& result) {
    std::vector<double> out;
    for (const auto& v : result.at("Values").as_array()) out.push_back(v.as_double());
    return out;
  }
};

TEST_F(GetMetricDataTest, MetricStatLabelsAndScanBy) {
  auto out =
      ok("GetMetricData", request(stat("m1", "A") + "," + stat("m2", "B", R"(,"Label":"bees")")));
  const auto& results = out.at("MetricDataResults").as_array();
  ASSERT_EQ(results.size(), 2u);
  const auto& a = results[0].as_object();
  EXPECT_EQ(a.at("Id").as_string(), "m1");
  EXPECT_EQ(a.at("Label").as_string(), "A");
  EXPECT_EQ(a.at("StatusCode").as_string(), "Complete");
  EXPECT_EQ(values(a), (std::vector<double>{3, 2, 1}));  // TimestampDescending by default
  EXPECT_DOUBLE_EQ(a.at("Timestamps").as_array()[0].as_double(), double(kNow - 60));
  EXPECT_EQ(results[1].at("Label").as_string(), "bees");
  auto asc = ok("GetMetricData", request(stat("m1", "A"), R"(,"ScanBy":"TimestampAscending")"));
  EXPECT_EQ(values(asc.at("MetricDataResults").as_array()[0].as_object()),
            (std::vector<double>{1, 2, 3}));
}

TEST_F(GetMetricDataTest, Expressions) {
  auto out = ok("GetMetricData", request(stat("m1", "A", R"(,"ReturnData":false)") + "," +
                                             stat("m2", "B", R"(,"ReturnData":false)") +
                                             R"j(,{"Id":"total","Expression":"m1 + m2"},
                           {"Id":"sum","Expression":"SUM([m1, m2])","Label":"all"},
                           {"Id":"pct","Expression":"100 * m2 / total"},
                           {"Id":"avg","Expression":"AVG(m1)"})j",
                                         R"(,"ScanBy":"TimestampAscending")"));
  const auto& results = out.at("MetricDataResults").as_array();
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].at("Id").as_string(), "total");
  EXPECT_EQ(results[0].at("Label").as_string(), "total");
  EXPECT_EQ(values(results[0].as_object()), (std::vector<double>{12, 23}));
  EXPECT_EQ(results[1].at("Label").as_string(), "all");
  EXPECT_EQ(values(results[1].as_object()), (std::vector<double>{1, 12, 23}));
  auto pct = values(results[2].as_object());
  ASSERT_EQ(pct.size(), 2u);
  EXPECT_NEAR(pct[1], 100.0 * 20 / 23, 1e-9);
  EXPECT_EQ(values(results[3].as_object()), (std::vector<double>{2, 2, 2}));  // a scalar
}

TEST_F(GetMetricDataTest, Validation) {
  auto c = [&](const std::string& queries, const std::string& extra = "") {
    return code("GetMetricData", request(queries, extra));
  };
  EXPECT_EQ(c(R"j({"Id":"e1","Expression":"RATE(m1)"})j"), "InvalidParameterValue");
  EXPECT_NE(message("GetMetricData", request(R"j({"Id":"e1","Expression":"RATE(m1)"})j"))
                .find("Unsupported function RATE"),
            std::string::npos);
  EXPECT_EQ(c(R"({"Id":"e1","Expression":"m9 * 2"})"), "InvalidParameterValue");
  EXPECT_EQ(c(R"({"Id":"a","Expression":"b"},{"Id":"b","Expression":"a"})"),
            "InvalidParameterValue");
  EXPECT_EQ(c(stat("M1", "A")), "InvalidParameterValue");
  EXPECT_EQ(c(stat("m1", "A") + "," + stat("m1", "B")), "InvalidParameterValue");
  EXPECT_EQ(c(R"({"Id":"x"})"), "MissingParameter");
  EXPECT_EQ(c(R"({"Id":"x","Expression":"1","MetricStat":{"Metric":{"Namespace":"App",
      "MetricName":"A"},"Period":60,"Stat":"Sum"}})"),
            "InvalidParameterCombination");
  EXPECT_EQ(c(R"({"Id":"x","MetricStat":{"Metric":{"Namespace":"App","MetricName":"A"},
      "Period":60,"Stat":"tm99"}})"),
            "InvalidParameterValue");
  EXPECT_EQ(c(R"({"Id":"x","MetricStat":{"Metric":{"Namespace":"App","MetricName":"A"},
      "Period":90,"Stat":"Sum"}})"),
            "InvalidParameterValue");
  std::string many;
  for (int i = 0; i < 501; ++i) many += (i ? "," : "") + stat("m" + std::to_string(i), "A");
  EXPECT_EQ(c(many), "InvalidParameterValue");
  EXPECT_EQ(c(stat("m1", "A"), R"(,"NextToken":"bogus")"), "InvalidNextToken");
}

TEST_F(GetMetricDataTest, PagingWithMaxDatapoints) {
  std::string queries = stat("m1", "A") + "," + stat("m2", "B");
  std::vector<double> seen;
  std::string token;
  int pages = 0;
  for (;;) {
    std::string extra = R"(,"MaxDatapoints":2,"ScanBy":"TimestampAscending")";
    if (!token.empty()) extra += R"(,"NextToken":")" + token + R"(")";
    auto out = ok("GetMetricData", request(queries, extra));
    ++pages;
    for (const auto& r : out.at("MetricDataResults").as_array()) {
      for (double v : values(r.as_object())) seen.push_back(v);
    }
    if (!out.contains("NextToken")) break;
    token = std::string(out.at("NextToken").as_string());
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<double>{1, 2, 3, 10, 20}));
  // A token is bound to its request.
  auto first = ok("GetMetricData", request(queries, R"(,"MaxDatapoints":2)"));
  std::string t1(first.at("NextToken").as_string());
  EXPECT_EQ(code("GetMetricData", request(stat("m1", "A"), R"(,"NextToken":")" + t1 + R"(")")),
            "InvalidNextToken");
  EXPECT_EQ(first.at("MetricDataResults").as_array()[0].at("StatusCode").as_string(),
            "PartialData");
}

// The same requests through the real decoders: Query form parameters (ISO timestamps,
// "NaN" as text) and JSON 1.0 (NaN as a string).
TEST_F(CloudWatchTest, ThroughTheWireDecoders) {
  auto run = [&](http::Request req) -> Output {
    auto route = wire::route(req, "monitoring");
    EXPECT_TRUE(route.has_value());
    auto in = wire::decode_input(*route, req);
    EXPECT_TRUE(in.has_value()) << (in ? "" : in.error().message);
    return call(route->operation->name, *in);
  };
  http::Request form;
  form.method = "POST";
  form.target = "/";
  form.headers.add("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  form.body =
      "Action=PutMetricData&Version=2010-08-01&Namespace=App&MetricData.member.1.MetricName=q"
      "&MetricData.member.1.Value=2&MetricData.member.1.Timestamp=2027-01-15T07%3A59%3A00Z"
      "&MetricData.member.1.Dimensions.member.1.Name=campaign"
      "&MetricData.member.1.Dimensions.member.1.Value=book";
  EXPECT_TRUE(run(form).has_value());
  http::Request json_req;
  json_req.method = "POST";
  json_req.target = "/";
  json_req.headers.add("X-Amz-Target", "GraniteServiceVersion20100801.PutMetricData");
  json_req.headers.add("Content-Type", "application/x-amz-json-1.0");
  json_req.body = R"({"Namespace":"App","MetricData":[{"MetricName":"q","Value":"NaN"}]})";
  auto nan = run(json_req);
  ASSERT_FALSE(nan.has_value());
  EXPECT_EQ(nan.error().code, "InvalidParameterValue");
  http::Request form_nan = form;
  form_nan.body =
      "Action=PutMetricData&Version=2010-08-01&Namespace=App&MetricData.member.1.MetricName=q"
      "&MetricData.member.1.Value=NaN";
  auto query_nan = run(form_nan);
  ASSERT_FALSE(query_nan.has_value());
  EXPECT_EQ(query_nan.error().code, "InvalidParameterValue");

  form.body =
      "Action=GetMetricStatistics&Version=2010-08-01&Namespace=App&MetricName=q"
      "&Dimensions.member.1.Name=campaign&Dimensions.member.1.Value=book"
      "&StartTime=2027-01-15T07%3A00%3A00Z&EndTime=2027-01-15T08%3A00%3A00Z&Period=3600"
      "&Statistics.member.1=Sum";
  auto got = run(form);
  ASSERT_TRUE(got.has_value());
  EXPECT_DOUBLE_EQ(got->at("Datapoints").as_array().at(0).at("Sum").as_double(), 2);
}

}  // namespace
}  // namespace mailtally::services
