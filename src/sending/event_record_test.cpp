// The event records against AWS's example records (spec 10.2), field by field: the same facts
// must give the same JSON value (key order aside).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "base/time_format.hpp"
#include "sending/event_record.hpp"

namespace mailtally::sending {
namespace {
namespace json = boost::json;

constexpr std::string_view kId = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000";

double at(std::string_view iso) { return *base::parse_iso8601(iso); }

// Compares every member recursively and names the first difference.
void expect_same(const json::value& want, const json::value& got, const std::string& path) {
  if (want.is_object() && got.is_object()) {
    const auto& w = want.as_object();
    const auto& g = got.as_object();
    for (const auto& [k, v] : w) {
      const auto* x = g.if_contains(k);
      ASSERT_TRUE(x) << "missing " << path << "." << k;
      expect_same(v, *x, path + "." + std::string(k));
    }
    for (const auto& [k, v] : g) {
      (void)v;
      EXPECT_TRUE(w.contains(k)) << "extra " << path << "." << k;
    }
    return;
  }
  if (want.is_array() && got.is_array()) {
    ASSERT_EQ(want.as_array().size(), got.as_array().size()) << path;
    for (std::size_t i = 0; i < want.as_array().size(); ++i) {
      expect_same(want.as_array()[i], got.as_array()[i], path + "[" + std::to_string(i) + "]");
    }
    return;
  }
  EXPECT_EQ(json::serialize(want), json::serialize(got)) << path;
}

MailFacts example_mail(std::string_view timestamp, std::string source,
                       std::vector<std::pair<std::string, std::string>> headers,
                       std::vector<domain::MessageTag> tags) {
  MailFacts m;
  m.timestamp = at(timestamp);
  m.source = source;
  m.source_address = "sender@example.com";
  m.message_id = std::string(kId);
  m.destination = {"recipient@example.com"};
  m.headers = std::move(headers);
  m.common.from = {source};
  m.common.to = {"recipient@example.com"};
  m.common.message_id = std::string(kId);
  m.common.subject = "Message sent from Amazon SES";
  m.tags = std::move(tags);
  return m;
}

std::vector<domain::MessageTag> auto_tags() {
  return {{"ses:configuration-set", "ConfigSet"},
          {"ses:source-ip", "192.0.2.0"},
          {"ses:from-domain", "example.com"},
          {"ses:caller-identity", "ses_user"}};
}

TEST(EventRecord, SendMatchesAwsExample) {
  const char* aws = R"({"eventType":"Send",
 "mail":{"timestamp":"2016-10-14T05:02:16.645Z","source":"sender@example.com","sourceArn":"arn:aws:ses:us-east-1:123456789012:identity/sender@example.com","sendingAccountId":"123456789012","messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","destination":["recipient@example.com"],"headersTruncated":false,"headers":[{"name":"From","value":"sender@example.com"},{"name":"To","value":"recipient@example.com"},{"name":"Subject","value":"Message sent from Amazon SES"},{"name":"MIME-Version","value":"1.0"},{"name":"Content-Type","value":"multipart/mixed;  boundary=\"----=_Part_0_716996660.1476421336341\""},{"name":"X-SES-MESSAGE-TAGS","value":"myCustomTag1=myCustomTagValue1, myCustomTag2=myCustomTagValue2"}],"commonHeaders":{"from":["sender@example.com"],"to":["recipient@example.com"],"messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","subject":"Message sent from Amazon SES"},"tags":{"ses:configuration-set":["ConfigSet"],"ses:source-ip":["192.0.2.0"],"ses:from-domain":["example.com"],"ses:caller-identity":["ses_user"],"myCustomTag1":["myCustomTagValue1"],"myCustomTag2":["myCustomTagValue2"]}},
 "send":{}})";
  auto tags = auto_tags();
  tags.push_back({"myCustomTag1", "myCustomTagValue1", true});
  tags.push_back({"myCustomTag2", "myCustomTagValue2", true});
  auto mail = example_mail(
      "2016-10-14T05:02:16.645Z", "sender@example.com",
      {{"From", "sender@example.com"},
       {"To", "recipient@example.com"},
       {"Subject", "Message sent from Amazon SES"},
       {"MIME-Version", "1.0"},
       {"Content-Type", "multipart/mixed;  boundary=\"----=_Part_0_716996660.1476421336341\""},
       {"X-SES-MESSAGE-TAGS", "myCustomTag1=myCustomTagValue1, myCustomTag2=myCustomTagValue2"}},
      tags);
  std::string record = send_record(mail_json(mail));
  expect_same(json::parse(aws), json::parse(record), "");
  EXPECT_EQ(record.substr(0, 27), R"({"eventType":"Send","mail":)");

  domain::EventFacts facts;
  ASSERT_TRUE(event_facts_from_record(record, true, facts));
  ASSERT_EQ(facts.tags.size(), 6u);
  EXPECT_FALSE(facts.tags[0].from_header);  // ses:configuration-set
  EXPECT_TRUE(facts.tags[4].from_header);   // myCustomTag1
  EXPECT_EQ(facts.headers.size(), 6u);
}

std::vector<std::pair<std::string, std::string>> example_headers(std::string from,
                                                                 std::string content_type) {
  return {{"From", from},
          {"To", "recipient@example.com"},
          {"Subject", "Message sent from Amazon SES"},
          {"MIME-Version", "1.0"},
          {"Content-Type", content_type}};
}

TEST(EventRecord, BounceMatchesAwsExample) {
  const char* aws = R"({"eventType":"Bounce",
 "bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"recipient@example.com","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"timestamp":"2017-08-05T00:41:02.669Z","feedbackId":"01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000","reportingMTA":"dsn; mta.example.com"},
 "mail":{"timestamp":"2017-08-05T00:40:02.012Z","source":"Sender Name <sender@example.com>","sourceArn":"arn:aws:ses:us-east-1:123456789012:identity/sender@example.com","sendingAccountId":"123456789012","messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","destination":["recipient@example.com"],"headersTruncated":false,"headers":[{"name":"From","value":"Sender Name <sender@example.com>"},{"name":"To","value":"recipient@example.com"},{"name":"Subject","value":"Message sent from Amazon SES"},{"name":"MIME-Version","value":"1.0"},{"name":"Content-Type","value":"multipart/alternative; boundary=\"----=_Part_7307378_1629847660.1516840721503\""}],"commonHeaders":{"from":["Sender Name <sender@example.com>"],"to":["recipient@example.com"],"messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","subject":"Message sent from Amazon SES"},"tags":{"ses:configuration-set":["ConfigSet"],"ses:source-ip":["192.0.2.0"],"ses:from-domain":["example.com"],"ses:caller-identity":["ses_user"]}}})";
  auto mail =
      example_mail("2017-08-05T00:40:02.012Z", "Sender Name <sender@example.com>",
                   example_headers("Sender Name <sender@example.com>",
                                   "multipart/alternative; "
                                   "boundary=\"----=_Part_7307378_1629847660.1516840721503\""),
                   auto_tags());
  BounceFacts b{"Permanent",
                "General",
                {{"recipient@example.com", "failed", "5.1.1", "smtp; 550 5.1.1 user unknown"}},
                at("2017-08-05T00:41:02.669Z"),
                "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
                "dsn; mta.example.com"};
  expect_same(json::parse(aws), json::parse(bounce_record(mail_json(mail), b)), "");
}

TEST(EventRecord, ComplaintMatchesAwsExample) {
  const char* aws = R"({"eventType":"Complaint",
 "complaint":{"complainedRecipients":[{"emailAddress":"recipient@example.com"}],"timestamp":"2017-08-05T00:41:02.669Z","feedbackId":"01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.90 Safari/537.36","complaintFeedbackType":"abuse","arrivalDate":"2017-08-05T00:41:02.669Z"},
 "mail":{"timestamp":"2017-08-05T00:40:01.123Z","source":"Sender Name <sender@example.com>","sourceArn":"arn:aws:ses:us-east-1:123456789012:identity/sender@example.com","sendingAccountId":"123456789012","messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","destination":["recipient@example.com"],"headersTruncated":false,"headers":[{"name":"From","value":"Sender Name <sender@example.com>"},{"name":"To","value":"recipient@example.com"},{"name":"Subject","value":"Message sent from Amazon SES"},{"name":"MIME-Version","value":"1.0"},{"name":"Content-Type","value":"multipart/alternative; boundary=\"----=_Part_7298998_679725522.1516840859643\""}],"commonHeaders":{"from":["Sender Name <sender@example.com>"],"to":["recipient@example.com"],"messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","subject":"Message sent from Amazon SES"},"tags":{"ses:configuration-set":["ConfigSet"],"ses:source-ip":["192.0.2.0"],"ses:from-domain":["example.com"],"ses:caller-identity":["ses_user"]}}})";
  auto mail =
      example_mail("2017-08-05T00:40:01.123Z", "Sender Name <sender@example.com>",
                   example_headers("Sender Name <sender@example.com>",
                                   "multipart/alternative; "
                                   "boundary=\"----=_Part_7298998_679725522.1516840859643\""),
                   auto_tags());
  ComplaintFacts c;
  c.recipients = {"recipient@example.com"};
  c.timestamp = at("2017-08-05T00:41:02.669Z");
  c.feedback_id = "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000";
  c.user_agent =
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/60.0.3112.90 Safari/537.36";
  c.arrival_date = at("2017-08-05T00:41:02.669Z");
  expect_same(json::parse(aws), json::parse(complaint_record(mail_json(mail), c)), "");
}

TEST(EventRecord, DeliveryMatchesAwsExample) {
  const char* aws = R"({"eventType":"Delivery",
 "mail":{"timestamp":"2016-10-19T23:20:52.240Z","source":"sender@example.com","sourceArn":"arn:aws:ses:us-east-1:123456789012:identity/sender@example.com","sendingAccountId":"123456789012","messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","destination":["recipient@example.com"],"headersTruncated":false,"headers":[{"name":"From","value":"sender@example.com"},{"name":"To","value":"recipient@example.com"},{"name":"Subject","value":"Message sent from Amazon SES"},{"name":"MIME-Version","value":"1.0"},{"name":"Content-Type","value":"text/html; charset=UTF-8"},{"name":"Content-Transfer-Encoding","value":"7bit"}],"commonHeaders":{"from":["sender@example.com"],"to":["recipient@example.com"],"messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","subject":"Message sent from Amazon SES"},"tags":{"ses:configuration-set":["ConfigSet"],"ses:source-ip":["192.0.2.0"],"ses:from-domain":["example.com"],"ses:caller-identity":["ses_user"],"ses:outgoing-ip":["192.0.2.0"],"myCustomTag1":["myCustomTagValue1"],"myCustomTag2":["myCustomTagValue2"]}},
 "delivery":{"timestamp":"2016-10-19T23:21:04.133Z","processingTimeMillis":11893,"recipients":["recipient@example.com"],"smtpResponse":"250 2.6.0 Message received","reportingMTA":"mta.example.com"}})";
  auto headers = example_headers("sender@example.com", "text/html; charset=UTF-8");
  headers.emplace_back("Content-Transfer-Encoding", "7bit");
  auto tags = auto_tags();
  tags.push_back({"ses:outgoing-ip", "192.0.2.0"});
  tags.push_back({"myCustomTag1", "myCustomTagValue1"});
  tags.push_back({"myCustomTag2", "myCustomTagValue2"});
  auto mail = example_mail("2016-10-19T23:20:52.240Z", "sender@example.com", headers, tags);
  DeliveryFacts d{at("2016-10-19T23:21:04.133Z"),
                  11893,
                  {"recipient@example.com"},
                  "250 2.6.0 Message received",
                  "mta.example.com"};
  expect_same(json::parse(aws), json::parse(delivery_record(mail_json(mail), d)), "");
}

TEST(EventRecord, RejectMatchesAwsExample) {
  const char* aws = R"({"eventType":"Reject",
 "mail":{"timestamp":"2016-10-14T17:38:15.211Z","source":"sender@example.com","sourceArn":"arn:aws:ses:us-east-1:123456789012:identity/sender@example.com","sendingAccountId":"123456789012","messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","destination":["sender@example.com"],"headersTruncated":false,"headers":[{"name":"From","value":"sender@example.com"},{"name":"To","value":"recipient@example.com"},{"name":"Subject","value":"Message sent from Amazon SES"},{"name":"MIME-Version","value":"1.0"},{"name":"Content-Type","value":"multipart/mixed; boundary=\"qMm9M+Fa2AknHoGS\""},{"name":"X-SES-MESSAGE-TAGS","value":"myCustomTag1=myCustomTagValue1, myCustomTag2=myCustomTagValue2"}],"commonHeaders":{"from":["sender@example.com"],"to":["recipient@example.com"],"messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","subject":"Message sent from Amazon SES"},"tags":{"ses:configuration-set":["ConfigSet"],"ses:source-ip":["192.0.2.0"],"ses:from-domain":["example.com"],"ses:caller-identity":["ses_user"],"myCustomTag1":["myCustomTagValue1"],"myCustomTag2":["myCustomTagValue2"]}},
 "reject":{"reason":"Bad content"}})";
  auto headers =
      example_headers("sender@example.com", "multipart/mixed; boundary=\"qMm9M+Fa2AknHoGS\"");
  headers.emplace_back("X-SES-MESSAGE-TAGS",
                       "myCustomTag1=myCustomTagValue1, myCustomTag2=myCustomTagValue2");
  auto tags = auto_tags();
  tags.push_back({"myCustomTag1", "myCustomTagValue1"});
  tags.push_back({"myCustomTag2", "myCustomTagValue2"});
  auto mail = example_mail("2016-10-14T17:38:15.211Z", "sender@example.com", headers, tags);
  mail.destination = {"sender@example.com"};
  expect_same(json::parse(aws), json::parse(reject_record(mail_json(mail))), "");
}

TEST(EventRecord, ClickAndOpenObjectsMatchAwsExamples) {
  const char* aws_click =
      R"({"ipAddress":"192.0.2.1","link":"http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html","linkTags":{"samplekey0":["samplevalue0"],"samplekey1":["samplevalue1"]},"timestamp":"2017-08-09T23:51:25.570Z","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.90 Safari/537.36"})";
  EngagementFacts c;
  c.timestamp = *base::parse_iso8601("2017-08-09T23:51:25.570Z");
  c.ip_address = "192.0.2.1";
  c.user_agent =
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/60.0.3112.90 Safari/537.36";
  c.link = "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html";
  c.link_tags = {{"samplekey0", "samplevalue0"}, {"samplekey1", "samplevalue1"}};
  auto mail = example_mail("2017-08-09T23:50:05.795Z", "sender@example.com", {}, auto_tags());
  std::string record = click_record(mail_json(mail), c);
  auto v = json::parse(record);
  EXPECT_EQ(v.at("eventType").as_string(), "Click");
  expect_same(json::parse(aws_click), v.at("click"), "click");

  const char* aws_open =
      R"({"ipAddress":"192.0.2.1","timestamp":"2017-08-09T22:00:19.652Z","userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8 (KHTML, like Gecko) Mobile/14G60"})";
  EngagementFacts o;
  o.timestamp = *base::parse_iso8601("2017-08-09T22:00:19.652Z");
  o.ip_address = "192.0.2.1";
  o.user_agent =
      "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8 (KHTML, like "
      "Gecko) Mobile/14G60";
  auto ov = json::parse(open_record(mail_json(mail), o));
  EXPECT_EQ(ov.at("eventType").as_string(), "Open");
  expect_same(json::parse(aws_open), ov.at("open"), "open");

  // The dispatcher reads the clicked link's tags back for linkTag dimensions.
  domain::EventFacts facts;
  ASSERT_TRUE(event_facts_from_record(record, false, facts));
  std::vector<std::pair<std::string, std::string>> want{{"samplekey0", "samplevalue0"},
                                                        {"samplekey1", "samplevalue1"}};
  EXPECT_EQ(facts.link_tags, want);
}

TEST(EventRecord, HeadersTruncatedBeyondTenKilobytes) {
  auto mail = example_mail("2016-10-14T17:38:15.211Z", "sender@example.com", {}, {});
  for (int i = 0; i < 200; ++i) mail.headers.emplace_back("X-Filler", std::string(100, 'x'));
  auto v = json::parse(mail_json(mail));
  EXPECT_TRUE(v.at("headersTruncated").as_bool());
  EXPECT_LT(v.at("headers").as_array().size(), 200u);
}

}  // namespace
}  // namespace mailtally::sending
