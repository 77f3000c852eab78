// Unit tests of the pure parts of the sending pipeline: ids, tags, MIME, simulator, delivery
// plans.
#include <gtest/gtest.h>

#include "sending/delivery.hpp"
#include "sending/header_block.hpp"
#include "sending/ids.hpp"
#include "sending/mime_build.hpp"
#include "sending/mime_parse.hpp"
#include "sending/simulator.hpp"
#include "sending/tags.hpp"

namespace mailtally::sending {
namespace {

using namespace std::chrono_literals;

TEST(MessageId, HasSesShape) {
  base::TimePoint t{std::chrono::milliseconds(1476421336341)};
  std::string id = make_message_id(t);
  EXPECT_EQ(id.size(), 60u);
  EXPECT_EQ(id.substr(0, 16), "01000157c191bd15");  // 0x157c191bd15 = 1476421336341 ms
  EXPECT_EQ(id.substr(id.size() - 7), "-000000");
  EXPECT_TRUE(looks_like_message_id(id)) << id;
  EXPECT_NE(id, make_message_id(t));
  EXPECT_FALSE(
      looks_like_message_id("EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"));
}

TEST(Time, IsoMillisAndRfc5322) {
  EXPECT_EQ(iso_millis(1476421336.645), "2016-10-14T05:02:16.645Z");
  EXPECT_EQ(iso_millis(1476421336.0), "2016-10-14T05:02:16.000Z");
  EXPECT_EQ(rfc5322_date(1476421336.645), "Fri, 14 Oct 2016 05:02:16 +0000");
}

TEST(Tags, HeaderSyntax) {
  auto t = parse_message_tags_header("tagName1=tagValue1, tagName2=tagValue2");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].name, "tagName1");
  EXPECT_EQ(t[0].value, "tagValue1");
  EXPECT_TRUE(t[0].from_header);
  EXPECT_EQ(t[1].name, "tagName2");
  EXPECT_EQ(t[1].value, "tagValue2");

  t = parse_message_tags_header("campaign=book");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].value, "book");

  t = parse_message_tags_header(" ,a = b ,, noequals, =x, c=d=e,\tbad.chars=v@x ");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].name, "a");
  EXPECT_EQ(t[0].value, "b");
  EXPECT_EQ(t[1].name, "c");
  EXPECT_EQ(t[1].value, "d=e");
  EXPECT_EQ(t[2].name, "bad.chars");  // kept: the CloudWatch rule drops it later
  EXPECT_TRUE(parse_message_tags_header("").empty());
}

TEST(Tags, CharacterRules) {
  EXPECT_TRUE(is_valid_tag_part("abc_DEF-123"));
  EXPECT_FALSE(is_valid_tag_part(""));
  EXPECT_FALSE(is_valid_tag_part("a b"));
  EXPECT_FALSE(is_valid_tag_part("a:b"));
  EXPECT_FALSE(is_valid_tag_part("a.b"));
  EXPECT_TRUE(is_valid_tag_part(std::string(256, 'a')));
  EXPECT_FALSE(is_valid_tag_part(std::string(257, 'a')));
}

TEST(Tags, ApiTagsWinAndAreNeverMerged) {
  AutoTagFacts f{"Set1", "example.com", "ses_user", "192.0.2.0", "SendRawEmail", ""};
  std::vector<domain::MessageTag> api{{"a", "1", false}};
  auto header = parse_message_tags_header("b=2, a=9");
  auto both = final_tags(f, api, header);
  auto only_header = final_tags(f, {}, header);
  auto has = [](const std::vector<domain::MessageTag>& v, std::string n, std::string val) {
    for (const auto& t : v) {
      if (t.name == n && t.value == val) return true;
    }
    return false;
  };
  EXPECT_TRUE(has(both, "a", "1"));
  EXPECT_FALSE(has(both, "b", "2"));
  EXPECT_FALSE(has(both, "a", "9"));
  EXPECT_TRUE(has(only_header, "b", "2"));
  EXPECT_TRUE(has(only_header, "a", "9"));
  for (const auto* v : {&both, &only_header}) {
    EXPECT_TRUE(has(*v, "ses:configuration-set", "Set1"));
    EXPECT_TRUE(has(*v, "ses:from-domain", "example.com"));
    EXPECT_TRUE(has(*v, "ses:caller-identity", "ses_user"));
    EXPECT_TRUE(has(*v, "ses:source-ip", "192.0.2.0"));
    EXPECT_TRUE(has(*v, "ses:operation", "SendRawEmail"));
  }
  AutoTagFacts no_set{"", "example.com", "k", "ip", "SendEmail", ""};
  for (const auto& t : final_tags(no_set, {}, {})) EXPECT_NE(t.name, "ses:configuration-set");
}

TEST(Simulator, ExactAddressesWithLabels) {
  EXPECT_EQ(classify_simulator("success@simulator.amazonses.com"), SimulatorOutcome::Success);
  EXPECT_EQ(classify_simulator("bounce+abc@simulator.amazonses.com"), SimulatorOutcome::Bounce);
  EXPECT_EQ(classify_simulator("ooto@SIMULATOR.amazonses.com"), SimulatorOutcome::Ooto);
  EXPECT_EQ(classify_simulator("complaint+x+y@simulator.amazonses.com"),
            SimulatorOutcome::Complaint);
  EXPECT_EQ(classify_simulator("suppressionlist@simulator.amazonses.com"),
            SimulatorOutcome::SuppressionList);
  EXPECT_FALSE(classify_simulator("success@simulator.amazonses.com.evil.org"));
  EXPECT_FALSE(classify_simulator("successful@simulator.amazonses.com"));
  EXPECT_FALSE(classify_simulator("Success@simulator.amazonses.com"));
  EXPECT_FALSE(classify_simulator("success@example.com"));
  EXPECT_FALSE(classify_simulator("nobody"));
}

SimpleContent sample() {
  SimpleContent c;
  c.from = "Sender Name <sender@example.com>";
  c.to = {"recipient@example.com"};
  c.subject.data = "Grüße aus Köln — a long subject line that needs more than one encoded word";
  c.text = TextPart{"Hello, Wörld!\nSecond line = two.\n", "UTF-8"};
  c.html = TextPart{"<p>Hello</p>\n", "UTF-8"};
  c.message_id_header = "<id-1@email.amazonses.com>";
  c.date = 1476421336;
  c.boundary = "----=_Part_abc";
  return c;
}

TEST(MimeBuild, MultipartAlternativeRoundTripsThroughGMime) {
  std::string raw = build_simple_message(sample());
  EXPECT_NE(raw.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(raw.find("Content-Type: multipart/alternative; boundary=\"----=_Part_abc\""),
            std::string::npos);
  EXPECT_NE(raw.find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(raw.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
  EXPECT_NE(raw.find("Content-Transfer-Encoding: 7bit"), std::string::npos);
  EXPECT_NE(raw.find("Date: Fri, 14 Oct 2016 05:02:16 +0000\r\n"), std::string::npos);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    ASSERT_LT(static_cast<unsigned char>(raw[i]), 0x80) << "non-ASCII byte at " << i;
    if (raw[i] == '\n') {
      ASSERT_EQ(raw[i - 1], '\r');
    }
  }
  auto parsed = parse_message(raw);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->subject, sample().subject.data);
  EXPECT_EQ(parsed->from_addresses, std::vector<std::string>{"sender@example.com"});
  EXPECT_EQ(parsed->to_addresses, std::vector<std::string>{"recipient@example.com"});
  EXPECT_EQ(parsed->message_id, "id-1@email.amazonses.com");
  EXPECT_FALSE(parsed->has_eicar);
}

TEST(MimeBuild, SinglePartsAndEncodings) {
  SimpleContent c = sample();
  c.subject.data = "Plain subject";
  c.html.reset();
  c.text = TextPart{std::string(3000, '\xc3'), "UTF-8"};  // mostly non-ASCII -> base64
  std::string raw = build_simple_message(c);
  EXPECT_NE(raw.find("Subject: Plain subject\r\n"), std::string::npos);
  EXPECT_NE(raw.find("Content-Type: text/plain; charset=UTF-8"), std::string::npos);
  EXPECT_NE(raw.find("Content-Transfer-Encoding: base64"), std::string::npos);
  EXPECT_EQ(raw.find("multipart"), std::string::npos);
  c.text.reset();
  c.html = TextPart{"<b>x</b>", "UTF-8"};
  raw = build_simple_message(c);
  EXPECT_NE(raw.find("Content-Type: text/html; charset=UTF-8"), std::string::npos);
}

TEST(MimeBuild, QuotedPrintable) {
  EXPECT_EQ(quoted_printable("a=b"), "a=3Db");
  EXPECT_EQ(quoted_printable("caf\xc3\xa9"), "caf=C3=A9");
  EXPECT_EQ(quoted_printable("x \ny"), "x=20\r\ny");
  std::string longline = quoted_printable(std::string(200, 'a'));
  for (auto pos = longline.find("\r\n"); pos != std::string::npos;
       pos = longline.find("\r\n", pos + 2)) {
    EXPECT_EQ(longline[pos - 1], '=');  // soft breaks only
  }
  EXPECT_EQ(encode_header_text("plain"), "plain");
  EXPECT_EQ(encode_header_text("é"), "=?UTF-8?B?w6k=?=");
}

TEST(HeaderBlock, RemoveAndSetKeepTheRestByteExact) {
  std::string raw =
      "X-SES-CONFIGURATION-SET: Set1\r\n"
      "From: a@example.com\r\n"
      "X-SES-MESSAGE-TAGS: a=1,\r\n b=2\r\n"
      "Subject: hi\r\n"
      "\r\n"
      "X-SES-MESSAGE-TAGS: in body stays\r\n";
  auto block = split_headers(raw);
  ASSERT_EQ(block.headers.size(), 4u);
  EXPECT_EQ(block.headers[2].value, "a=1, b=2");
  std::string out = remove_headers(raw, {"x-ses-configuration-set", "X-SES-MESSAGE-TAGS"});
  EXPECT_EQ(out, "From: a@example.com\r\nSubject: hi\r\n\r\nX-SES-MESSAGE-TAGS: in body stays\r\n");
  out = set_header(out, "Message-ID", "<x@y>");
  EXPECT_EQ(out.substr(0, 20), "Message-ID: <x@y>\r\nF");
  out = set_header(out, "subject", "new");
  EXPECT_NE(out.find("subject: new\r\n\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Subject: hi"), std::string::npos);
}

TEST(MimeParse, FindsEicarInBase64Attachment) {
  std::string eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
  std::string raw =
      "From: a@example.com\r\nTo: b@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n"
      "Content-Type: text/plain\r\n\r\nhello\r\n--B\r\n"
      "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
      base64_lines(eicar) + "--B--\r\n";
  EXPECT_EQ(raw.find("EICAR"), std::string::npos);
  auto parsed = parse_message(raw);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->has_eicar);
}

TEST(MimeParse, AddressesAndEncodedSubject) {
  std::string raw =
      "From: =?UTF-8?B?SsO2aG4=?= <john@example.com>\r\nTo: x@example.com, \"Y\" "
      "<y@example.org>\r\n"
      "Cc: c@example.com\r\nBcc: d@example.com\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\n\r\nbody";
  auto p = parse_message(raw);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->from_addresses, std::vector<std::string>{"john@example.com"});
  EXPECT_EQ(p->from.at(0), "Jöhn <john@example.com>");
  EXPECT_EQ(p->to_addresses, (std::vector<std::string>{"x@example.com", "y@example.org"}));
  EXPECT_EQ(p->cc_addresses, std::vector<std::string>{"c@example.com"});
  EXPECT_EQ(p->bcc_addresses, std::vector<std::string>{"d@example.com"});
  EXPECT_EQ(p->subject, "café");
  EXPECT_EQ(parse_address_list("Name <n@example.com>"), std::vector<std::string>{"n@example.com"});
}

TEST(DeliveryPlan, SimulatorOutcomesAndMailbox) {
  domain::QueuedMessage m;
  m.id = 7;
  m.message_id = "mid";
  m.configuration_set = "Set1";
  m.mail = "{}";
  m.created_at = 100.0;
  m.recipients = {"success@simulator.amazonses.com",   "bounce@simulator.amazonses.com",
                  "complaint@simulator.amazonses.com", "suppressionlist@simulator.amazonses.com",
                  "ooto@simulator.amazonses.com",      "someone@example.com"};
  auto c = plan_delivery(m, 100.25, "mta.local");
  std::vector<std::string> types;
  for (const auto& e : c.events) types.push_back(e.event_type);
  EXPECT_EQ(types, (std::vector<std::string>{"Delivery", "Delivery", "Delivery", "Delivery",
                                             "Bounce", "Bounce", "Complaint"}));
  EXPECT_EQ(c.mailbox_recipients, std::vector<std::string>{"someone@example.com"});
  EXPECT_NE(c.events[3].record.find("\"smtpResponse\":\"250 2.0.0 OK\""), std::string::npos);
  EXPECT_NE(c.events[0].record.find("\"processingTimeMillis\":250"), std::string::npos);
  EXPECT_NE(c.events[4].record.find("\"bounceSubType\":\"General\""), std::string::npos);
  EXPECT_NE(c.events[5].record.find("\"bounceSubType\":\"Suppressed\""), std::string::npos);
  EXPECT_NE(c.events[6].record.find("\"complaintFeedbackType\":\"abuse\""), std::string::npos);

  m.has_virus = true;
  c = plan_delivery(m, 101, "mta.local");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].event_type, "Reject");
  EXPECT_TRUE(c.mailbox_recipients.empty());
}

}  // namespace
}  // namespace mailtally::sending
