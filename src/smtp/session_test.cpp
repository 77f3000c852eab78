// The SMTP protocol engine, driven the way smtp::Server drives it.
#include "smtp/session.hpp"

#include <gtest/gtest.h>

#include "base/crypto.hpp"

namespace mailtally::smtp {
namespace {

// Feeds `input`, answers actions with scripted results, and collects what would be written.
struct Driver {
  Session s;
  std::string written;
  std::vector<Action> actions;  // every non-Read action, in order
  AuthResult auth = AuthResult::Ok;
  std::string submit_reply = "250 Ok 0100-test";
  bool closed = false;

  explicit Driver(SessionSetup setup = {}) : s(std::move(setup)) { written = s.greeting(); }

  // Runs until more input is needed (or the session closed).
  void pump() {
    for (;;) {
      Action a = s.next();
      written += a.output;
      switch (a.kind) {
        case Action::Kind::Read:
          return;
        case Action::Kind::Close:
          closed = true;
          actions.push_back(std::move(a));
          return;
        case Action::Kind::StartTls:
          actions.push_back(std::move(a));
          s.tls_started("TLSv1.3");
          break;
        case Action::Kind::Authenticate:
          actions.push_back(a);
          s.authenticated(
              a.username == "AKID" && a.password == "secret" ? auth : AuthResult::Invalid,
              "key-name");
          break;
        case Action::Kind::Submit:
          actions.push_back(std::move(a));
          s.submitted(submit_reply);
          break;
      }
    }
  }
  std::string send(std::string_view input) {
    written.clear();
    s.receive(input);
    pump();
    return written;
  }
  // Byte by byte, to check nothing depends on how reads split the stream.
  std::string send_bytewise(std::string_view input) {
    written.clear();
    for (char c : input) {
      s.receive(std::string_view(&c, 1));
      pump();
    }
    return written;
  }
};

std::string plain(std::string_view user, std::string_view pass) {
  std::string raw;
  raw += '\0';
  raw += user;
  raw += '\0';
  raw += pass;
  return base::base64_encode(raw);
}

SessionSetup tls_setup() {
  SessionSetup s;
  s.hostname = "mx.test";
  s.tls_active = true;
  s.tls_version = "TLSv1.3";
  return s;
}

// An authenticated session over implicit TLS.
Driver authed() {
  Driver d(tls_setup());
  d.send("EHLO client\r\nAUTH PLAIN " + plain("AKID", "secret") + "\r\n");
  return d;
}

TEST(SmtpSession, GreetingAndEhloWithoutTls) {
  SessionSetup setup;
  setup.hostname = "mx.test";
  Driver d(setup);
  EXPECT_EQ(d.written, "220 mx.test ESMTP mailtally\r\n");
  EXPECT_EQ(d.send("EHLO client.example\r\n"),
            "250-mx.test\r\n250-SIZE 41943040\r\n250-8BITMIME\r\n250-PIPELINING\r\n"
            "250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n");
}

TEST(SmtpSession, EhloOverTlsOffersAuthAndNotStarttls) {
  Driver d(tls_setup());
  std::string out = d.send("ehlo client\r\n");
  EXPECT_NE(out.find("250 AUTH PLAIN LOGIN\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("STARTTLS"), std::string::npos) << out;
}

TEST(SmtpSession, AuthBeforeStarttlsIsRefused) {
  Driver d;
  d.send("EHLO c\r\n");
  EXPECT_EQ(d.send("AUTH PLAIN " + plain("AKID", "secret") + "\r\n"),
            "530 5.7.0 Must issue a STARTTLS command first\r\n");
  EXPECT_TRUE(d.actions.empty());
}

TEST(SmtpSession, PlainTextAuthWhenAllowed) {
  SessionSetup setup;
  setup.auth_without_tls = true;
  Driver d(setup);
  EXPECT_NE(d.send("EHLO c\r\n").find("AUTH PLAIN LOGIN"), std::string::npos);
  EXPECT_EQ(d.send("AUTH PLAIN " + plain("AKID", "secret") + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
}

TEST(SmtpSession, MailWithoutAuthIsRefused) {
  Driver d(tls_setup());
  d.send("EHLO c\r\n");
  EXPECT_EQ(d.send("MAIL FROM:<a@example.com>\r\n"), "530 5.7.0 Authentication required\r\n");
  EXPECT_EQ(d.send("RCPT TO:<b@example.com>\r\n"), "503 5.5.1 Need MAIL before RCPT\r\n");
}

TEST(SmtpSession, MailBeforeEhlo) {
  Driver d(tls_setup());
  EXPECT_EQ(d.send("MAIL FROM:<a@example.com>\r\n"), "503 5.5.1 Send EHLO/HELO first\r\n");
}

TEST(SmtpSession, StarttlsDiscardsPipelinedPlainText) {
  Driver d;
  d.send("EHLO c\r\n");
  // The injected AUTH after STARTTLS must not be executed (RFC 3207 5).
  std::string out = d.send("STARTTLS\r\nAUTH PLAIN " + plain("AKID", "secret") + "\r\n");
  EXPECT_EQ(out, "220 2.0.0 Ready to start TLS\r\n");
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].kind, Action::Kind::StartTls);
  EXPECT_TRUE(d.s.tls_active());
  EXPECT_EQ(d.s.identity(), "");
  // After TLS the client greets again.
  EXPECT_EQ(d.send("AUTH PLAIN " + plain("AKID", "secret") + "\r\n"),
            "503 5.5.1 Send EHLO first\r\n");
  EXPECT_NE(d.send("EHLO c\r\n").find("AUTH PLAIN LOGIN"), std::string::npos);
  EXPECT_EQ(d.send("STARTTLS\r\n"), "503 5.5.1 TLS already active\r\n");
}

TEST(SmtpSession, AuthPlainInitialAndContinuation) {
  Driver d(tls_setup());
  d.send("EHLO c\r\n");
  EXPECT_EQ(d.send("AUTH PLAIN\r\n"), "334 \r\n");
  EXPECT_EQ(d.send(plain("AKID", "secret") + "\r\n"), "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(d.s.identity(), "key-name");
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].username, "AKID");
  EXPECT_EQ(d.actions[0].password, "secret");
  EXPECT_EQ(d.send("AUTH PLAIN " + plain("AKID", "secret") + "\r\n"),
            "503 5.5.1 Already authenticated\r\n");
}

TEST(SmtpSession, AuthLogin) {
  Driver d(tls_setup());
  d.send("EHLO c\r\n");
  EXPECT_EQ(d.send("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(d.send(base::base64_encode("AKID") + "\r\n"), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(d.send(base::base64_encode("secret") + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
}

TEST(SmtpSession, AuthLoginWithInitialUsername) {
  Driver d(tls_setup());
  d.send("EHLO c\r\n");
  EXPECT_EQ(d.send("AUTH LOGIN " + base::base64_encode("AKID") + "\r\n"), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(d.send(base::base64_encode("secret") + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
}

TEST(SmtpSession, AuthErrors) {
  Driver d(tls_setup());
  d.send("EHLO c\r\n");
  EXPECT_EQ(d.send("AUTH CRAM-MD5\r\n"), "504 5.5.4 Unrecognized authentication type\r\n");
  EXPECT_EQ(d.send("AUTH PLAIN !!!\r\n"), "501 5.5.2 Cannot decode the AUTH response (base64)\r\n");
  d.send("AUTH LOGIN\r\n");
  EXPECT_EQ(d.send("*\r\n"), "501 5.0.0 Authentication cancelled\r\n");
  // An authorization identity other than the user is refused like a wrong password.
  std::string raw = std::string("other") + '\0' + "AKID" + '\0' + "secret";
  EXPECT_EQ(d.send("AUTH PLAIN " + base::base64_encode(raw) + "\r\n"),
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(d.s.identity(), "");
}

TEST(SmtpSession, FailedAuthAttemptsAreCapped) {
  SessionSetup setup = tls_setup();
  setup.max_auth_failures = 3;
  Driver d(setup);
  d.send("EHLO c\r\n");
  EXPECT_EQ(d.send("AUTH PLAIN " + plain("AKID", "wrong") + "\r\n"),
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(d.send("AUTH PLAIN " + plain("AKID", "wrong") + "\r\n"),
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(d.send("AUTH PLAIN " + plain("AKID", "wrong") + "\r\n"),
            "421 4.7.0 Too many failed authentication attempts, closing connection\r\n");
  EXPECT_TRUE(d.closed);
}

TEST(SmtpSession, TemporaryAuthFailure) {
  Driver d(tls_setup());
  d.auth = AuthResult::TemporaryFailure;
  d.send("EHLO c\r\n");
  EXPECT_EQ(d.send("AUTH PLAIN " + plain("AKID", "secret") + "\r\n"),
            "454 4.7.0 Temporary authentication failure\r\n");
}

TEST(SmtpSession, PipelinedTransactionWithDotStuffing) {
  Driver d = authed();
  std::string out = d.send(
      "MAIL FROM:<from@example.com> SIZE=100 BODY=8BITMIME\r\n"
      "RCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
      "Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n");
  EXPECT_EQ(out,
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
            "354 End data with <CR><LF>.<CR><LF>\r\n250 Ok 0100-test\r\n221 2.0.0 Bye\r\n");
  ASSERT_GE(d.actions.size(), 2u);
  const Action& submit = d.actions[d.actions.size() - 2];
  ASSERT_EQ(submit.kind, Action::Kind::Submit);
  EXPECT_EQ(submit.envelope.mail_from, "from@example.com");
  EXPECT_EQ(submit.envelope.rcpt_to, (std::vector<std::string>{"a@example.com", "b@example.com"}));
  EXPECT_EQ(submit.message, "Subject: x\r\n\r\n.leading dot\r\n");
  EXPECT_TRUE(d.closed);
}

TEST(SmtpSession, DataDecodingDoesNotDependOnReadBoundaries) {
  const std::string body =
      "Subject: y\r\n\r\nline\r\n.\rnot end\r\n..\r\n...x\r\nbare\n.\nstill data\r\r\n"
      "lf\n..stuffed\nlf\n.\r\nnot the end\r\n.\r\n";
  Driver whole = authed();
  whole.send("MAIL FROM:<f@example.com>\r\nRCPT TO:<t@example.com>\r\nDATA\r\n" + body);
  Driver bytes = authed();
  bytes.send_bytewise("MAIL FROM:<f@example.com>\r\nRCPT TO:<t@example.com>\r\nDATA\r\n" + body);
  ASSERT_EQ(whole.actions.back().kind, Action::Kind::Submit);
  ASSERT_EQ(bytes.actions.back().kind, Action::Kind::Submit);
  const std::string expected =
      "Subject: y\r\n\r\nline\r\n\rnot end\r\n.\r\n..x\r\nbare\n.\nstill data\r\r\n"
      "lf\n.stuffed\nlf\n.\r\nnot the end\r\n";
  EXPECT_EQ(whole.actions.back().message, expected);
  EXPECT_EQ(bytes.actions.back().message, expected);
}

TEST(SmtpSession, EmptyMessage) {
  Driver d = authed();
  d.send("MAIL FROM:<f@example.com>\r\nRCPT TO:<t@example.com>\r\nDATA\r\n.\r\n");
  ASSERT_EQ(d.actions.back().kind, Action::Kind::Submit);
  EXPECT_EQ(d.actions.back().message, "");
}

TEST(SmtpSession, RecipientLimit) {
  SessionSetup setup = tls_setup();
  setup.max_recipients = 2;
  Driver d(setup);
  d.send("EHLO c\r\nAUTH PLAIN " + plain("AKID", "secret") + "\r\nMAIL FROM:<f@example.com>\r\n");
  EXPECT_EQ(d.send("RCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n"),
            "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n");
  EXPECT_EQ(d.send("RCPT TO:<c@example.com>\r\n"),
            "452 4.5.3 Too many recipients (at most 2 per message)\r\n");
}

TEST(SmtpSession, SizeLimits) {
  SessionSetup setup = tls_setup();
  setup.max_message_bytes = 10;
  Driver d(setup);
  d.send("EHLO c\r\nAUTH PLAIN " + plain("AKID", "secret") + "\r\n");
  EXPECT_EQ(d.send("MAIL FROM:<f@example.com> SIZE=11\r\n"),
            "552 5.3.4 Message size exceeds fixed maximum message size\r\n");
  d.send("MAIL FROM:<f@example.com> SIZE=10\r\nRCPT TO:<t@example.com>\r\nDATA\r\n");
  EXPECT_EQ(d.send("0123456789abc\r\n.\r\nNOOP\r\n"),
            "552 5.3.4 Message size exceeds fixed maximum message size\r\n250 2.0.0 Ok\r\n");
  EXPECT_EQ(d.actions.size(), 1u);  // only the AUTH: nothing submitted
  // Far past the limit the session answers and closes without waiting for the end.
  d.send("MAIL FROM:<f@example.com>\r\nRCPT TO:<t@example.com>\r\nDATA\r\n");
  std::string out = d.send(std::string(25, 'x'));
  EXPECT_EQ(out,
            "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
            "421 4.7.0 Message far too large, closing connection\r\n");
  EXPECT_TRUE(d.closed);
}

TEST(SmtpSession, BadAddressesAndParameters) {
  Driver d = authed();
  EXPECT_EQ(d.send("MAIL FROM:<>\r\n"),
            "553 5.1.7 The sender address is not a valid email address\r\n");
  EXPECT_EQ(d.send("MAIL FROM:<f@example.com\r\n"), "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  EXPECT_EQ(d.send("MAIL FROM <f@example.com>\r\n"), "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  EXPECT_EQ(d.send("MAIL FROM:<f@example.com> SMTPUTF8\r\n"),
            "555 5.5.4 Unsupported MAIL parameter SMTPUTF8\r\n");
  EXPECT_EQ(d.send("MAIL FROM:<f@example.com> BODY=BINARYMIME\r\n"),
            "501 5.5.4 Syntax: BODY=7BIT or BODY=8BITMIME\r\n");
  EXPECT_EQ(d.send("MAIL FROM: <f@example.com>\r\n"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(d.send("MAIL FROM:<g@example.com>\r\n"), "503 5.5.1 Sender already specified\r\n");
  EXPECT_EQ(d.send("RCPT TO:<not an address>\r\n"), "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
  EXPECT_EQ(d.send("RCPT TO:<nobody>\r\n"),
            "553 5.1.3 The recipient address is not a valid email address\r\n");
  EXPECT_EQ(d.send("RCPT TO:<a@example.com> NOTIFY=NEVER\r\n"),
            "555 5.5.4 Unsupported RCPT parameter NOTIFY\r\n");
  EXPECT_EQ(d.send("DATA\r\n"), "554 5.5.1 No valid recipients\r\n");
  EXPECT_EQ(d.send("RSET\r\nDATA\r\n"), "250 2.0.0 Ok\r\n503 5.5.1 Need MAIL command\r\n");
}

TEST(SmtpSession, OtherCommands) {
  Driver d(tls_setup());
  EXPECT_EQ(d.send("HELO c\r\n"), "250 mx.test\r\n");
  EXPECT_EQ(d.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(d.send("VRFY someone\r\n"),
            "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n");
  EXPECT_EQ(d.send("BDAT 10 LAST\r\n"), "502 5.5.1 BDAT not available (no CHUNKING)\r\n");
  EXPECT_EQ(d.send("FROB\r\n"), "500 5.5.2 Syntax error, command unrecognized\r\n");
  EXPECT_EQ(d.send("EHLO\r\n"), "501 5.5.4 Syntax: EHLO hostname\r\n");
  EXPECT_EQ(d.send("NO\x01OP\r\n"),
            "500 5.5.2 Syntax error: command contains invalid characters\r\n");
  EXPECT_EQ(d.send("noop\n"), "250 2.0.0 Ok\r\n");  // a bare LF ends a command line
  EXPECT_EQ(d.send("QUIT\r\n"), "221 2.0.0 Bye\r\n");
  EXPECT_TRUE(d.closed);
}

TEST(SmtpSession, LongLinesAreRefusedAndSkipped) {
  SessionSetup setup = tls_setup();
  setup.max_command_line = 20;
  Driver d(setup);
  EXPECT_EQ(d.send("NOOP " + std::string(30, 'x')), "500 5.5.2 Line too long\r\n");
  EXPECT_EQ(d.send(std::string(30, 'y') + "\r\nNOOP\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(d.send("NOOP " + std::string(20, 'z') + "\r\n"), "500 5.5.2 Line too long\r\n");
  EXPECT_LE(d.s.buffered(), 20u);
}

TEST(SmtpSession, TooManyErrorsClose) {
  SessionSetup setup = tls_setup();
  setup.max_errors = 3;
  Driver d(setup);
  EXPECT_EQ(d.send("A\r\nB\r\nC\r\nNOOP\r\n"),
            "500 5.5.2 Syntax error, command unrecognized\r\n"
            "500 5.5.2 Syntax error, command unrecognized\r\n"
            "500 5.5.2 Syntax error, command unrecognized\r\n"
            "421 4.7.0 Too many errors, closing connection\r\n");
  EXPECT_TRUE(d.closed);
}

TEST(SmtpSession, HttpRequestIsAnsweredAndClosed) {
  Driver d;
  EXPECT_EQ(d.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            "421 4.7.0 This is an SMTP server, closing connection\r\n");
  EXPECT_TRUE(d.closed);
}

TEST(SmtpSession, TransactionAfterFailedSubmit) {
  Driver d = authed();
  d.submit_reply = "554 5.7.1 Message rejected: nope";
  EXPECT_EQ(d.send("MAIL FROM:<f@example.com>\r\nRCPT TO:<t@example.com>\r\nDATA\r\nx\r\n.\r\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
            "554 5.7.1 Message rejected: nope\r\n");
  EXPECT_EQ(d.send("MAIL FROM:<f@example.com>\r\n"), "250 2.1.0 Ok\r\n");
}

TEST(SmtpSession, PathArguments) {
  auto p = parse_path_argument("<a@b.c> SIZE=12 body=8bitmime");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->address, "a@b.c");
  ASSERT_EQ(p->params.size(), 2u);
  EXPECT_EQ(p->params[0], (std::pair<std::string, std::string>{"SIZE", "12"}));
  EXPECT_EQ(p->params[1], (std::pair<std::string, std::string>{"BODY", "8bitmime"}));
  EXPECT_EQ(parse_path_argument("<@r1,@r2:x@y.z>")->address, "x@y.z");
  EXPECT_EQ(parse_path_argument("<>")->address, "");
  EXPECT_EQ(parse_path_argument("bare@x.y")->address, "bare@x.y");
  EXPECT_FALSE(parse_path_argument("<a@b"));
  EXPECT_FALSE(parse_path_argument("<a@b>x"));
  EXPECT_FALSE(parse_path_argument(""));
  EXPECT_FALSE(parse_path_argument("<a b@c>"));
}

}  // namespace
}  // namespace mailtally::smtp
