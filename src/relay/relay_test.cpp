// The SMTP reply parser, DATA dot-stuffing and the relay URL.
#include <gtest/gtest.h>

#include "relay/smtp_relay.hpp"
#include "relay/smtp_reply.hpp"

namespace mailtally::relay {
namespace {

TEST(SmtpReply, MultiLineWithEnhancedCode) {
  std::string in = "250-mx.example.com\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n221 bye\r\n";
  SmtpReply r;
  std::size_t used = 0;
  ASSERT_EQ(parse_reply(in, r, used), ReplyParse::Complete);
  EXPECT_EQ(r.code, 250);
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[2], "AUTH PLAIN LOGIN");
  EXPECT_EQ(in.substr(used), "221 bye\r\n");

  ASSERT_EQ(parse_reply("550 5.1.1 <a@b>: user unknown\n", r, used), ReplyParse::Complete);
  EXPECT_EQ(r.enhanced, "5.1.1");
  EXPECT_EQ(r.text(), "550 5.1.1 <a@b>: user unknown");
  ASSERT_EQ(parse_reply("250\r\n", r, used), ReplyParse::Complete);
  EXPECT_EQ(r.text(), "250");
  ASSERT_EQ(parse_reply("452 4.2.2 mailbox full\r\n", r, used), ReplyParse::Complete);
  EXPECT_EQ(r.enhanced, "4.2.2");
  ASSERT_EQ(parse_reply("452 5.2.2 class mismatch\r\n", r, used), ReplyParse::Complete);
  EXPECT_EQ(r.enhanced, "");
}

TEST(SmtpReply, IncompleteAndMalformed) {
  SmtpReply r;
  std::size_t used = 0;
  EXPECT_EQ(parse_reply("250-first\r\n250 sec", r, used), ReplyParse::Incomplete);
  EXPECT_EQ(parse_reply("", r, used), ReplyParse::Incomplete);
  EXPECT_EQ(parse_reply("250-a\r\n251 b\r\n", r, used), ReplyParse::Malformed);
  EXPECT_EQ(parse_reply("hello\r\n", r, used), ReplyParse::Malformed);
  EXPECT_EQ(parse_reply("999 x\r\n", r, used), ReplyParse::Malformed);
  EXPECT_EQ(parse_reply("250x\r\n", r, used), ReplyParse::Malformed);
  EXPECT_EQ(parse_reply(std::string(kMaxReplyLine + 1, '2'), r, used), ReplyParse::Malformed);
}

TEST(Relay, DotStuffingAndLineEndings) {
  EXPECT_EQ(dot_stuff("a\n.b\r\n..c"), "a\r\n..b\r\n...c\r\n.\r\n");
  EXPECT_EQ(dot_stuff("x\r\n"), "x\r\n.\r\n");
}

TEST(Relay, ParsesRelayUrls) {
  std::string err;
  auto c = parse_relay_url("smtp://u%40x:p%3Aw@127.0.0.1:2525?starttls=required", err);
  ASSERT_TRUE(c) << err;
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->port, 2525);
  EXPECT_EQ(c->user, "u@x");
  EXPECT_EQ(c->password, "p:w");
  EXPECT_TRUE(c->require_starttls);
  auto plain = parse_relay_url("smtp://[::1]:25", err);
  ASSERT_TRUE(plain) << err;
  EXPECT_EQ(plain->host, "::1");
  EXPECT_FALSE(plain->require_starttls);
  EXPECT_FALSE(parse_relay_url("http://h:25", err));
  EXPECT_FALSE(parse_relay_url("smtp://h:25?tls=1", err));
  EXPECT_FALSE(parse_relay_url("smtp://:25", err));
}

TEST(Relay, NoServerMeansATransientCommunicationFailure) {
  RelayConfig cfg;
  cfg.host = "127.0.0.1";
  cfg.port = 1;  // nothing listens there
  SmtpRelay relay(cfg, {"test.local", std::chrono::milliseconds(2000)});
  std::string msg = "Subject: x\r\n\r\nbody\r\n";
  auto r = relay.send({"a@example.com", {"b@example.com", "c@example.com"}, msg});
  ASSERT_EQ(r.recipients.size(), 2u);
  for (const auto& x : r.recipients) {
    EXPECT_EQ(x.outcome, Outcome::Transient);
    EXPECT_TRUE(x.communication);
    EXPECT_EQ(x.status, "4.4.1");
  }
}

}  // namespace
}  // namespace mailtally::relay
