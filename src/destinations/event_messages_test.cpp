#include "destinations/event_messages.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace mailtally::destinations {
namespace {

namespace json = boost::json;

TEST(EventMessages, IsoMillisAlwaysHasMilliseconds) {
  EXPECT_EQ(iso_millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso_millis(1476421336.645), "2016-10-14T05:02:16.645Z");
  EXPECT_EQ(iso_millis(1.9996), "1970-01-01T00:00:02.000Z");
}

TEST(EventMessages, StableUuidDependsOnlyOnTheSeed) {
  EXPECT_EQ(stable_uuid("a/b/1"), stable_uuid("a/b/1"));
  EXPECT_NE(stable_uuid("a/b/1"), stable_uuid("a/b/2"));
  std::string id = stable_uuid("x");
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[8], '-');
  EXPECT_EQ(id[14], '5');
}

TEST(EventMessages, NotificationStringToSignListsFieldsInOrder) {
  SnsEnvelope e;
  e.type = "Notification";
  e.message_id = "id";
  e.topic_arn = "arn:aws:sns:us-east-1:123456789012:t";
  e.message = "{\"eventType\":\"Send\"}";
  e.timestamp = 0;
  EXPECT_EQ(sns_string_to_sign(e),
            "Message\n{\"eventType\":\"Send\"}\nMessageId\nid\nTimestamp\n"
            "1970-01-01T00:00:00.000Z\nTopicArn\narn:aws:sns:us-east-1:123456789012:t\n"
            "Type\nNotification\n");
  e.type = "SubscriptionConfirmation";
  e.token = "tok";
  e.subscribe_url = "http://h/c";
  EXPECT_EQ(sns_string_to_sign(e),
            "Message\n{\"eventType\":\"Send\"}\nMessageId\nid\nSubscribeURL\nhttp://h/c\n"
            "Timestamp\n1970-01-01T00:00:00.000Z\nToken\ntok\nTopicArn\n"
            "arn:aws:sns:us-east-1:123456789012:t\nType\nSubscriptionConfirmation\n");
}

TEST(EventMessages, NotificationEnvelopeCarriesTheRecordAsAString) {
  SnsEnvelope e;
  e.type = "Notification";
  e.message_id = "id";
  e.topic_arn = "arn:aws:sns:us-east-1:123456789012:t";
  e.message = "{\"eventType\":\"Send\"}";
  e.unsubscribe_url = "http://h/u";
  e.signing_cert_url = "http://h/cert.pem";
  auto v = json::parse(sns_envelope_json(e, "1", "c2ln")).as_object();
  EXPECT_EQ(v.at("Type"), "Notification");
  EXPECT_EQ(v.at("Message"), "{\"eventType\":\"Send\"}");
  EXPECT_EQ(v.at("SignatureVersion"), "1");
  EXPECT_EQ(v.at("Signature"), "c2ln");
  EXPECT_EQ(v.at("UnsubscribeURL"), "http://h/u");
  EXPECT_FALSE(v.contains("Token"));
  EXPECT_FALSE(v.contains("SubscribeURL"));
}

TEST(EventMessages, EnvelopeIsValidJsonEvenForBytesThatAreNotUtf8) {
  SnsEnvelope e;
  e.type = "Notification";
  e.message = std::string("caf\xc3\xa9 \xff\xc3 \xed\xa0\x80 ok", 15);
  auto v = json::parse(sns_envelope_json(e, "1", "s")).as_object();
  EXPECT_EQ(v.at("Message"),
            "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd ok");
  EXPECT_NE(sns_string_to_sign(e).find(v.at("Message").as_string().c_str()), std::string::npos);
}

TEST(EventMessages, EventBridgeShape) {
  EXPECT_EQ(eventbridge_detail_type("Send"), "Email Sent");
  EXPECT_EQ(eventbridge_detail_type("Complaint"), "Email Complaint Received");
  EXPECT_EQ(eventbridge_detail_type("Rendering Failure"), "Email Rendering Failed");
  EXPECT_EQ(eventbridge_detail_type("DeliveryDelay"), "Email Delivery Delayed");
  EXPECT_FALSE(eventbridge_detail_type("Nope"));
  auto body = eventbridge_event_json("{\"eventType\":\"Delivery\",\"delivery\":{}}", "Delivery",
                                     "arn:aws:events:eu-west-1:123456789012:event-bus/default",
                                     "the-id", 1476421336.645);
  ASSERT_TRUE(body);
  auto v = json::parse(*body).as_object();
  EXPECT_EQ(v.at("detail-type"), "Email Delivered");
  EXPECT_EQ(v.at("source"), "aws.ses");
  EXPECT_EQ(v.at("region"), "eu-west-1");
  EXPECT_EQ(v.at("time"), "2016-10-14T05:02:16Z");
  EXPECT_EQ(v.at("id"), "the-id");
  EXPECT_TRUE(v.at("resources").as_array().empty());
  EXPECT_EQ(v.at("detail").at("eventType"), "Delivery");
  EXPECT_FALSE(eventbridge_event_json("not json", "Send", "arn", "id", 0));
  EXPECT_FALSE(eventbridge_event_json("[1]", "Send", "arn", "id", 0));
}

TEST(EventMessages, FirehoseStreamNames) {
  EXPECT_EQ(firehose_stream_name("arn:aws:firehose:us-east-1:1:deliverystream/my-stream_1.x"),
            "my-stream_1.x");
  EXPECT_FALSE(firehose_stream_name("arn:aws:firehose:us-east-1:1:deliverystream/"));
  EXPECT_FALSE(firehose_stream_name("arn:aws:firehose:us-east-1:1:deliverystream/.."));
  EXPECT_FALSE(firehose_stream_name("arn:aws:firehose:us-east-1:1:deliverystream/a/b"));
  EXPECT_FALSE(firehose_stream_name("arn:aws:firehose:us-east-1:1:other/x"));
}

}  // namespace
}  // namespace mailtally::destinations
