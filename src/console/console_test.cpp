#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "console/sessions.hpp"
#include "wire/codec.hpp"

namespace mailtally::console {
namespace {

TEST(CookieValue, FindsTheNamedCookieAmongOthers) {
  EXPECT_EQ(cookie_value("a=1; mailtally_session=abc; b=2", "mailtally_session"), "abc");
  EXPECT_EQ(cookie_value("mailtally_session=x", "mailtally_session"), "x");
  EXPECT_EQ(cookie_value("  mailtally_session = y ;", "mailtally_session"), "y");
  EXPECT_EQ(cookie_value("xmailtally_session=z", "mailtally_session"), std::nullopt);
  EXPECT_EQ(cookie_value("mailtally_session", "mailtally_session"), std::nullopt);
  EXPECT_EQ(cookie_value("", "mailtally_session"), std::nullopt);
  EXPECT_EQ(cookie_value(";;;=;", "mailtally_session"), std::nullopt);
}

TEST(SessionStore, SessionsExpireTwelveHoursAfterSignIn) {
  base::ManualClock clock(base::TimePoint(std::chrono::seconds(1'800'000'000)));
  SessionStore store(clock);
  Session s = store.create("KEY1");
  EXPECT_EQ(s.id.size(), 43u);
  EXPECT_EQ(s.csrf_token.size(), 43u);
  EXPECT_NE(s.id, s.csrf_token);
  ASSERT_TRUE(store.find(s.id));
  EXPECT_EQ(store.find(s.id)->access_key_id, "KEY1");
  clock.advance(std::chrono::hours(12) - std::chrono::seconds(1));
  EXPECT_TRUE(store.find(s.id));
  clock.advance(std::chrono::seconds(1));
  EXPECT_FALSE(store.find(s.id));
  EXPECT_EQ(store.size(), 0u);
}

TEST(SessionStore, UnknownIdsAndErasedSessionsAreNotFound) {
  base::ManualClock clock(base::TimePoint(std::chrono::seconds(1'800'000'000)));
  SessionStore store(clock);
  Session a = store.create("KEY1");
  Session b = store.create("KEY2");
  Session c = store.create("KEY1");
  EXPECT_FALSE(store.find("not-a-session"));
  EXPECT_FALSE(store.find(a.csrf_token));
  store.erase(b.id);
  EXPECT_FALSE(store.find(b.id));
  store.erase_key("KEY1");
  EXPECT_FALSE(store.find(a.id));
  EXPECT_FALSE(store.find(c.id));
}

TEST(SessionStore, AFullTableDropsTheSessionClosestToExpiry) {
  base::ManualClock clock(base::TimePoint(std::chrono::seconds(1'800'000'000)));
  SessionStore store(clock);
  Session first = store.create("KEY");
  clock.advance(std::chrono::seconds(1));
  for (std::size_t i = 1; i < SessionStore::kMaxSessions; ++i) store.create("KEY");
  EXPECT_EQ(store.size(), SessionStore::kMaxSessions);
  Session last = store.create("KEY");
  EXPECT_EQ(store.size(), SessionStore::kMaxSessions);
  EXPECT_FALSE(store.find(first.id));
  EXPECT_TRUE(store.find(last.id));
}

// The console passes documents, not HTTP requests: members bound to the URI are read by name.
TEST(DecodeDocument, ReadsUriMembersByNameAndValidatesLikeTheApi) {
  const wire::Service& v2 = wire::ses_v2_model();
  const wire::Operation* op = v2.find_operation("CreateConfigurationSetEventDestination");
  ASSERT_NE(op, nullptr);
  auto ok = wire::decode_document(v2, *v2.find_operation("GetConfigurationSet"),
                                  boost::json::parse(R"({"ConfigurationSetName":"cs1"})"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->at("ConfigurationSetName").as_string(), "cs1");

  auto missing =
      wire::decode_document(v2, *op, boost::json::parse(R"({"ConfigurationSetName":"cs1"})"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, wire::DecodeError::Kind::Missing);

  auto bad_enum = wire::decode_document(
      v2, *op, boost::json::parse(R"({"ConfigurationSetName":"cs1","EventDestinationName":"d",
        "EventDestination":{"MatchingEventTypes":["SENT"]}})"));
  ASSERT_FALSE(bad_enum);
  EXPECT_NE(bad_enum.error().message.find("EventDestination.MatchingEventTypes.1"),
            std::string::npos);

  auto wrong_type =
      wire::decode_document(v2, *op, boost::json::parse(R"({"ConfigurationSetName":7})"));
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().kind, wire::DecodeError::Kind::Malformed);
}

}  // namespace
}  // namespace mailtally::console
