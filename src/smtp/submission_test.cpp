// The bridge to the sending pipeline over the real SQLite stores: credentials, the SendSmtpEmail
// auto-tags, and the replies for refused sends.
#include "smtp/submission.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "smtp/password.hpp"
#include "storage/sqlite/sending_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace mailtally::smtp {
namespace {

class MapCredentials final : public auth::CredentialSource {
 public:
  std::optional<auth::Credential> find(std::string_view id) const override {
    if (id == "AKIDEXAMPLE") return auth::Credential{"AKIDEXAMPLE", "s3cret", "smtp-user"};
    return std::nullopt;
  }
};

TEST(SmtpCredentials, SesPasswordOfTheKey) {
  MapCredentials creds;
  std::string identity;
  EXPECT_EQ(check_credentials(creds, "us-east-1", "AKIDEXAMPLE",
                              smtp_password("s3cret", "us-east-1"), identity),
            AuthResult::Ok);
  EXPECT_EQ(identity, "smtp-user");
  // The secret itself, another region's password, an unknown key: all refused alike.
  EXPECT_EQ(check_credentials(creds, "us-east-1", "AKIDEXAMPLE", "s3cret", identity),
            AuthResult::Invalid);
  EXPECT_EQ(check_credentials(creds, "us-east-1", "AKIDEXAMPLE",
                              smtp_password("s3cret", "eu-west-1"), identity),
            AuthResult::Invalid);
  EXPECT_EQ(check_credentials(creds, "us-east-1", "NOSUCHKEY", smtp_password("s3cret", "us-east-1"),
                              identity),
            AuthResult::Invalid);
  EXPECT_EQ(check_credentials(creds, "us-east-1", "", "", identity), AuthResult::Invalid);
}

struct TempDb {
  std::string dir;
  TempDb() {
    char tmpl[] = "/tmp/mt-smtp-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~TempDb() { std::filesystem::remove_all(dir); }
};

struct Pipeline {
  TempDb db;
  std::unique_ptr<storage::SqliteStore> config = storage::SqliteStore::open(db.dir + "/m.db");
  std::unique_ptr<storage::SqliteSendingStore> store =
      storage::SqliteSendingStore::open(db.dir + "/m.db");
  base::ManualClock clock{base::TimePoint(std::chrono::seconds(1700000000))};
  sending::Sender sender{*config, *store, clock, domain::AccountSettings{}};
};

TEST(SmtpSubmission, SendsLikeSendRawEmailWithSmtpAutoTags) {
  Pipeline p;
  Envelope env{"sender@example.com", {"success@simulator.amazonses.com"}};
  SubmitFacts facts{"smtp-user", "192.0.2.7", "TLSv1.3"};
  std::string reply =
      submit_message(p.sender, env,
                     "From: Shown <shown@example.com>\r\nTo: someone@example.com\r\nSubject: s\r\n"
                     "X-SES-MESSAGE-TAGS: campaign=book\r\n\r\nbody\r\n",
                     facts);
  ASSERT_EQ(reply.rfind("250 Ok ", 0), 0u) << reply;
  std::string id = reply.substr(7);
  auto events = p.store->events({});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].message_id, id);
  EXPECT_EQ(events[0].event_type, "Send");
  const std::string& rec = events[0].record;
  EXPECT_NE(rec.find(R"("ses:operation":["SendSmtpEmail"])"), std::string::npos) << rec;
  EXPECT_NE(rec.find(R"("ses:source-tls-version":["TLSv1.3"])"), std::string::npos) << rec;
  EXPECT_NE(rec.find(R"("ses:caller-identity":["smtp-user"])"), std::string::npos) << rec;
  EXPECT_NE(rec.find(R"("ses:source-ip":["192.0.2.7"])"), std::string::npos) << rec;
  EXPECT_NE(rec.find(R"("campaign":["book"])"), std::string::npos) << rec;
  // The envelope decides source and destinations, not the headers.
  EXPECT_NE(rec.find(R"("source":"sender@example.com")"), std::string::npos) << rec;
  EXPECT_NE(rec.find(R"("destination":["success@simulator.amazonses.com"])"), std::string::npos)
      << rec;
  auto raw = p.store->raw_message(id);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->find("X-SES-MESSAGE-TAGS"), std::string::npos);
}

TEST(SmtpSubmission, WithoutTlsThereIsNoTlsTag) {
  Pipeline p;
  std::string reply = submit_message(p.sender, {"a@example.com", {"b@example.com"}},
                                     "From: a@example.com\r\nSubject: s\r\n\r\nx\r\n",
                                     SubmitFacts{"k", "127.0.0.1", ""});
  ASSERT_EQ(reply.rfind("250 Ok ", 0), 0u) << reply;
  EXPECT_EQ(p.store->events({})[0].record.find("ses:source-tls-version"), std::string::npos);
}

TEST(SmtpSubmission, RefusalsBecome554WithTheReason) {
  Pipeline p;
  std::string reply = submit_message(
      p.sender, {"a@example.com", {"b@example.com"}},
      "From: a@example.com\r\nX-SES-CONFIGURATION-SET: missing-set\r\n\r\nx\r\n", {"k", "ip", ""});
  EXPECT_EQ(reply,
            "554 5.3.0 Configuration set does not exist: Configuration set <missing-set> "
            "does not exist.");
  EXPECT_TRUE(p.store->events({}).empty());
  EXPECT_EQ(reply_for({sending::SendErrorKind::MessageRejected, "Illegal\r\naddress", ""}),
            "554 5.7.1 Message rejected: Illegal  address");
  EXPECT_EQ(reply_for({sending::SendErrorKind::InvalidParameter, "bad", ""}),
            "554 5.6.0 Transaction failed: bad");
}

TEST(SmtpSubmission, SandboxRejectsUnverifiedSender) {
  Pipeline p;
  domain::AccountSettings account;
  account.sandbox = true;
  sending::Sender sandboxed(*p.config, *p.store, p.clock, account);
  std::string reply = submit_message(sandboxed, {"a@example.com", {"b@example.com"}},
                                     "From: a@example.com\r\n\r\nx\r\n", {"k", "ip", ""});
  EXPECT_EQ(reply.rfind("554 5.7.1 Message rejected: Email address is not verified.", 0), 0u)
      << reply;
}

}  // namespace
}  // namespace mailtally::smtp
