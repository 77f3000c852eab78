// Relay outcomes -> SES events and deferrals (pure part of relay delivery), and the suppression
// planning of plan_delivery.
#include "sending/relay_delivery.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "sending/delivery.hpp"

namespace mailtally::sending {
namespace {

namespace json = boost::json;

domain::QueuedMessage message() {
  domain::QueuedMessage m;
  m.id = 7;
  m.message_id = "mid";
  m.recipients = {"a@example.com", "b@example.com", "c@example.com"};
  m.mail = R"({"source":"Name <s@example.com>","tags":{"ses:from-domain":["example.com"]}})";
  m.created_at = 1000;
  return m;
}

relay::RecipientResult answer(relay::Outcome o, int code, std::string status, std::string text,
                              bool communication = false) {
  return {o, code, std::move(status), std::move(text), communication};
}

TEST(RelayDelivery, RetryDelayDoublesUpToTheMaximum) {
  RetryPolicy p{100, 2, 10};
  EXPECT_EQ(retry_delay(p, 1), 2);
  EXPECT_EQ(retry_delay(p, 2), 4);
  EXPECT_EQ(retry_delay(p, 3), 8);
  EXPECT_EQ(retry_delay(p, 4), 10);
  EXPECT_EQ(retry_delay(p, 60), 10);
}

TEST(RelayDelivery, EnvelopeSenderAndDelayTypes) {
  EXPECT_EQ(envelope_sender(message().mail), "s@example.com");
  EXPECT_EQ(envelope_sender(R"({"source":"plain@example.com"})"), "plain@example.com");
  EXPECT_EQ(delay_type_of(answer(relay::Outcome::Transient, 421, "4.4.1", "x", true)),
            "TransientCommunicationFailure");
  EXPECT_EQ(delay_type_of(answer(relay::Outcome::Transient, 452, "4.2.2", "452 full")),
            "MailboxFull");
  EXPECT_EQ(delay_type_of(answer(relay::Outcome::Transient, 450, "4.7.0", "450 Spam score")),
            "SpamDetected");
  EXPECT_EQ(delay_type_of(answer(relay::Outcome::Transient, 451, "4.3.0", "451 later")), "General");
}

TEST(RelayDelivery, OutcomesBecomeEventsAndADeferral) {
  auto m = message();
  std::vector<std::string> reasons{"BOUNCE"};
  RelayAttempt a{m, m.recipients, reasons, "mta.test", RetryPolicy{3600, 60, 900}};
  relay::SendResult r;
  r.local_ip = "10.0.0.5";
  r.tls_version = "TLSv1.3";
  r.recipients = {answer(relay::Outcome::Delivered, 250, "2.0.0", "250 2.0.0 OK"),
                  answer(relay::Outcome::Permanent, 550, "5.1.1", "550 5.1.1 unknown"),
                  answer(relay::Outcome::Transient, 451, "4.3.0", "451 4.3.0 later")};
  domain::SendingStore::Completion c;
  apply_relay_result(a, r, 1010, c);
  ASSERT_EQ(c.events.size(), 3u);
  EXPECT_EQ(c.events[0].event_type, "Delivery");
  auto d = json::parse(c.events[0].record).as_object();
  auto tags = d["mail"].as_object()["tags"].as_object();
  EXPECT_EQ(tags["ses:outgoing-ip"].as_array()[0].as_string(), "10.0.0.5");
  EXPECT_EQ(tags["ses:outgoing-tls-version"].as_array()[0].as_string(), "TLSv1.3");
  EXPECT_EQ(d["delivery"].as_object()["processingTimeMillis"].as_int64(), 10000);
  EXPECT_EQ(c.events[1].event_type, "Bounce");
  EXPECT_NE(c.events[1].record.find("\"diagnosticCode\":\"smtp; 550 5.1.1 unknown\""),
            std::string::npos);
  EXPECT_EQ(c.events[1].record.find("ses:outgoing-ip"), std::string::npos);
  EXPECT_EQ(c.events[2].event_type, "DeliveryDelay");
  ASSERT_EQ(c.suppress.size(), 1u);
  EXPECT_EQ(c.suppress[0].email_address, "b@example.com");
  ASSERT_TRUE(c.defer);
  EXPECT_EQ(c.defer->recipients, std::vector<std::string>{"c@example.com"});
  EXPECT_EQ(c.defer->attempts, 1);
  EXPECT_DOUBLE_EQ(c.defer->next_attempt_at, 1070);
}

TEST(RelayDelivery, TemporaryFailureAtExpiryIsATransientBounce) {
  auto m = message();
  m.attempts = 5;
  std::vector<std::string> one{"c@example.com"};
  std::vector<std::string> reasons{"BOUNCE"};
  RelayAttempt a{m, one, reasons, "mta.test", RetryPolicy{60, 10, 100}};
  relay::SendResult r;
  r.recipients = {answer(relay::Outcome::Transient, 451, "4.3.0", "451 4.3.0 later")};
  domain::SendingStore::Completion c;
  apply_relay_result(a, r, 1060, c);
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_NE(c.events[0].record.find("\"bounceType\":\"Transient\""), std::string::npos);
  EXPECT_FALSE(c.defer);
  EXPECT_TRUE(c.suppress.empty());  // soft bounces never reach the suppression list
  // Before expiry the next attempt is capped at the expiration time.
  domain::SendingStore::Completion early;
  apply_relay_result(a, r, 1055, early);
  ASSERT_TRUE(early.defer);
  EXPECT_DOUBLE_EQ(early.defer->next_attempt_at, 1060);
}

TEST(DeliveryPlanSuppression, ListedRecipientsBounceAndRelayRecipientsAreReturned) {
  auto m = message();
  m.recipients.push_back("complaint@simulator.amazonses.com");
  DeliveryContext ctx;
  ctx.reporting_mta = "mta.test";
  ctx.relay = true;
  ctx.suppressed_reasons = {"BOUNCE", "COMPLAINT"};
  ctx.listed = [](const std::string& a) -> std::optional<std::string> {
    if (a == "b@example.com") return std::string("BOUNCE");
    return std::nullopt;
  };
  auto plan = plan_delivery(m, 1001, ctx);
  EXPECT_EQ(plan.relay_recipients, (std::vector<std::string>{"a@example.com", "c@example.com"}));
  std::vector<std::string> types;
  for (const auto& e : plan.completion.events) types.push_back(e.event_type);
  EXPECT_EQ(types, (std::vector<std::string>{"Delivery", "Bounce", "Complaint"}));
  EXPECT_NE(plan.completion.events[1].record.find("OnAccountSuppressionList"), std::string::npos);
  ASSERT_EQ(plan.completion.suppress.size(), 1u);
  EXPECT_EQ(plan.completion.suppress[0].reason, "COMPLAINT");
  // Only the remaining recipients of a deferred message are planned.
  m.remaining = std::vector<std::string>{"c@example.com"};
  EXPECT_EQ(plan_delivery(m, 1002, ctx).relay_recipients,
            std::vector<std::string>{"c@example.com"});
}

}  // namespace
}  // namespace mailtally::sending
