#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "wire/codec.hpp"

namespace mailtally::wire {
namespace json = boost::json;
namespace {

http::Request form_post(std::string body) {
  http::Request r;
  r.method = "POST";
  r.target = "/";
  r.headers.add("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  r.body = std::move(body);
  return r;
}

TEST(Model, GeneratedTablesHaveTheOperations) {
  EXPECT_EQ(ses_v1_model().protocol, "query");
  EXPECT_EQ(ses_v2_model().protocol, "rest-json");
  EXPECT_EQ(cloudwatch_model().target_prefix, "GraniteServiceVersion20100801");
  EXPECT_TRUE(cloudwatch_model().query_compatible);
  ASSERT_NE(ses_v1_model().find_operation("CreateConfigurationSetEventDestination"), nullptr);
  EXPECT_EQ(ses_v1_model().find_operation("NoSuchThing"), nullptr);
  const Shape* e = ses_v1_model().find_error("ConfigurationSetDoesNotExistException");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->error_code, "ConfigurationSetDoesNotExist");
  EXPECT_EQ(ses_v2_model().find_error("NotFoundException")->http_status, 404);
}

TEST(Router, QueryActionSelectsServiceByVersion) {
  auto r = route(form_post("Action=ListConfigurationSets&Version=2010-12-01"), "ses");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->service, &ses_v1_model());
  EXPECT_EQ(r->operation->name, "ListConfigurationSets");
  auto cw = route(form_post("Action=ListMetrics&Version=2010-08-01"), "monitoring");
  ASSERT_TRUE(cw);
  EXPECT_EQ(cw->service, &cloudwatch_model());
}

TEST(Router, UnknownActionIsInvalidAction) {
  auto r = route(form_post("Action=Bogus&Version=2010-12-01"), "ses");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, "InvalidAction");
  EXPECT_EQ(r.error().protocol, Protocol::Query);
}

TEST(Router, RestPathsWithLabelsAndNewerRoutes) {
  http::Request req;
  req.method = "DELETE";
  req.target = "/v2/email/configuration-sets/cs1/event-destinations/my%2Ddest";
  auto r = route(req, "ses");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->operation->name, "DeleteConfigurationSetEventDestination");
  ASSERT_EQ(r->uri_labels.size(), 2u);
  EXPECT_EQ(r->uri_labels[1].second, "my-dest");

  http::Request post;
  post.method = "POST";
  post.target = "/v2/email/list-configuration-sets";
  post.body = R"({"PageSize":5})";
  auto p = route(post, "ses");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->operation->name, "ListConfigurationSets");
  auto in = decode_input(*p, post);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->at("PageSize").as_int64(), 5);
}

TEST(Router, JsonTarget) {
  http::Request req;
  req.method = "POST";
  req.target = "/";
  req.headers.add("X-Amz-Target", "GraniteServiceVersion20100801.GetMetricStatistics");
  auto r = route(req, "monitoring");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->protocol, Protocol::Json);
  EXPECT_EQ(r->operation->name, "GetMetricStatistics");
}

TEST(DecodeQuery, NestedListsOfStructures) {
  auto req = form_post(
      "Action=CreateConfigurationSetEventDestination&Version=2010-12-01&ConfigurationSetName=cs1"
      "&EventDestination.Name=cw&EventDestination.Enabled=true"
      "&EventDestination.MatchingEventTypes.member.1=send"
      "&EventDestination.MatchingEventTypes.member.2=bounce"
      "&EventDestination.CloudWatchDestination.DimensionConfigurations.member.1.DimensionName="
      "campaign&EventDestination.CloudWatchDestination.DimensionConfigurations.member.1."
      "DimensionValueSource=messageTag&EventDestination.CloudWatchDestination."
      "DimensionConfigurations.member.1.DefaultDimensionValue=none");
  auto r = route(req, "ses");
  ASSERT_TRUE(r);
  auto in = decode_input(*r, req);
  ASSERT_TRUE(in) << in.error().message;
  auto expected = json::parse(R"({"ConfigurationSetName":"cs1","EventDestination":{"Name":"cw",
    "Enabled":true,"MatchingEventTypes":["send","bounce"],"CloudWatchDestination":{
    "DimensionConfigurations":[{"DimensionName":"campaign","DimensionValueSource":"messageTag",
    "DefaultDimensionValue":"none"}]}}})");
  EXPECT_EQ(json::value(*in), expected) << json::serialize(*in);
}

TEST(DecodeQuery, EnumAndRequiredChecks) {
  auto req = form_post(
      "Action=CreateConfigurationSetEventDestination&Version=2010-12-01&ConfigurationSetName=cs1"
      "&EventDestination.Name=cw&EventDestination.MatchingEventTypes.member.1=deliveryDelay");
  auto r = route(req, "ses");
  ASSERT_TRUE(r);
  auto in = decode_input(*r, req);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().kind, DecodeError::Kind::Invalid);
  EXPECT_EQ(in.error().path, "EventDestination.MatchingEventTypes.1");
  EXPECT_NE(in.error().message.find("deliveryDelay"), std::string::npos);

  auto missing = form_post("Action=DeleteConfigurationSet&Version=2010-12-01");
  auto r2 = route(missing, "ses");
  auto in2 = decode_input(*r2, missing);
  ASSERT_FALSE(in2);
  EXPECT_EQ(in2.error().kind, DecodeError::Kind::Missing);
  EXPECT_EQ(in2.error().path, "ConfigurationSetName");
}

TEST(DecodeQuery, ListElementWithoutMembersIsAnErrorNotACrash) {
  // Found by fuzz_query_decode: "X.member.2=v" for a list of structures decoded to a null
  // element that validation then read as an object.
  auto req = form_post(
      "Action=CreateConfigurationSetEventDestination&Version=2010-12-01&ConfigurationSetName=cs1"
      "&EventDestination.Name=cw&EventDestination.MatchingEventTypes.member.1=send"
      "&EventDestination.CloudWatchDestination.DimensionConfigurations.member.1=bounce");
  auto r = route(req, "ses");
  ASSERT_TRUE(r);
  auto in = decode_input(*r, req);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().kind, DecodeError::Kind::Missing);
  EXPECT_EQ(in.error().path, "EventDestination.CloudWatchDestination.DimensionConfigurations.1");
}

TEST(DecodeQuery, BlobsTimestampsAndPlusSigns) {
  auto req = form_post(
      "Action=SendRawEmail&Version=2010-12-01&RawMessage.Data=SGk%3D&Source=a%2Bb%40x.com");
  auto r = route(req, "ses");
  auto in = decode_input(*r, req);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->at("RawMessage").at("Data").as_string(), "Hi");
  EXPECT_EQ(in->at("Source").as_string(), "a+b@x.com");

  auto cw = form_post(
      "Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FSES&MetricName=Send"
      "&StartTime=2026-01-01T00%3A00%3A00Z&EndTime=2026-01-02T00%3A00%3A00Z&Period=3600"
      "&Statistics.member.1=Sum");
  auto rc = route(cw, "monitoring");
  auto inc = decode_input(*rc, cw);
  ASSERT_TRUE(inc) << inc.error().message;
  EXPECT_DOUBLE_EQ(inc->at("StartTime").as_double(), 1767225600.0);
  EXPECT_EQ(inc->at("Period").as_int64(), 3600);
}

TEST(DecodeJson, RestJsonBodyAndLabels) {
  http::Request req;
  req.method = "POST";
  req.target = "/v2/email/configuration-sets/cs1/event-destinations";
  req.body = R"({"EventDestinationName":"cw","EventDestination":{"Enabled":true,
    "MatchingEventTypes":["SEND"],"CloudWatchDestination":{"DimensionConfigurations":[
    {"DimensionName":"c","DimensionValueSource":"BOGUS","DefaultDimensionValue":"x"}]}}})";
  auto r = route(req, "ses");
  ASSERT_TRUE(r);
  auto in = decode_input(*r, req);
  ASSERT_FALSE(in);
  EXPECT_EQ(
      in.error().path,
      "EventDestination.CloudWatchDestination.DimensionConfigurations.1.DimensionValueSource");
  req.body = "{not json";
  EXPECT_EQ(decode_input(*r, req).error().kind, DecodeError::Kind::Malformed);
}

TEST(Encode, QueryXmlWithListsAndRequestId) {
  auto req = form_post("Action=ListConfigurationSets&Version=2010-12-01");
  auto r = route(req, "ses");
  json::object out{{"ConfigurationSets", json::array{json::object{{"Name", "cs1"}}}}};
  auto resp = encode_result(*r, out, "req-1");
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body,
            "<ListConfigurationSetsResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\">"
            "<ListConfigurationSetsResult><ConfigurationSets><member><Name>cs1</Name></member>"
            "</ConfigurationSets></ListConfigurationSetsResult><ResponseMetadata><RequestId>req-1"
            "</RequestId></ResponseMetadata></ListConfigurationSetsResponse>");
}

TEST(Encode, ErrorsPerProtocol) {
  auto e = model_error(ses_v1_model(), "ConfigurationSetDoesNotExistException", "no <cs>");
  e.fields["ConfigurationSetName"] = "cs";
  auto q = encode_error(&ses_v1_model(), Protocol::Query, e, "r");
  EXPECT_EQ(q.status, 400);
  EXPECT_NE(q.body.find("<Code>ConfigurationSetDoesNotExist</Code>"), std::string::npos);
  EXPECT_NE(q.body.find("<Message>no &lt;cs&gt;</Message>"), std::string::npos);
  EXPECT_NE(q.body.find("<Type>Sender</Type>"), std::string::npos);

  auto v2 = encode_error(&ses_v2_model(), Protocol::RestJson,
                         model_error(ses_v2_model(), "NotFoundException", "gone"), "r");
  EXPECT_EQ(v2.status, 404);
  EXPECT_EQ(*v2.headers.find("x-amzn-ErrorType"), "NotFoundException");

  auto cw =
      encode_error(&cloudwatch_model(), Protocol::Json,
                   model_error(cloudwatch_model(), "InvalidParameterValueException", "bad"), "r");
  EXPECT_EQ(*cw.headers.find("x-amzn-query-error"), "InvalidParameterValue;Sender");
  EXPECT_EQ(json::parse(cw.body).at("__type").as_string(), "InvalidParameterValueException");
}

TEST(Encode, JsonTimestampsAndBlobs) {
  const Service& cw = cloudwatch_model();
  const Operation* op = cw.find_operation("GetMetricStatistics");
  json::object out{
      {"Label", "Send"},
      {"Datapoints",
       json::array{json::object{{"Timestamp", 1704067200.0}, {"Sum", 3.0}, {"Unit", "Count"}}}}};
  auto v = to_wire_json(cw, op->output, out);
  EXPECT_EQ(v.at("Datapoints").at(0).at("Timestamp").as_double(), 1704067200.0);
  Route r;
  r.service = &cw;
  r.operation = op;
  r.protocol = Protocol::Query;
  auto resp = encode_result(r, out, "x");
  EXPECT_NE(resp.body.find("<Timestamp>2024-01-01T00:00:00Z</Timestamp><Sum>3</Sum>"),
            std::string::npos)
      << resp.body;
}

TEST(Form, DecodesAndRejectsBadEscapes) {
  auto p = FormParams::parse("b=2&a=Hi+there%21&a=x", true);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p->find("a"), "Hi there!");
  EXPECT_EQ(*p->find("b"), "2");
  EXPECT_FALSE(FormParams::parse("a=%zz", true));
  EXPECT_FALSE(FormParams::parse("a=%4", true));
}

}  // namespace
}  // namespace mailtally::wire
