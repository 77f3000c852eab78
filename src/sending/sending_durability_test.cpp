// The pipeline over the real SQLite adapter: intake rules, queue durability across SIGKILL,
// exactly-once completion, and the event dispatcher's cursors.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "sending/delivery.hpp"
#include "sending/event_dispatcher.hpp"
#include "sending/ids.hpp"
#include "sending/sender.hpp"
#include "storage/sqlite/sending_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace mailtally::sending {
namespace {
namespace json = boost::json;

struct TempDb {
  std::string dir;
  std::string path;
  TempDb() {
    char tmpl[] = "/tmp/mt-sending-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir + "/mailtally.db";
  }
  ~TempDb() { std::filesystem::remove_all(dir); }
};

struct Pipeline {
  std::unique_ptr<storage::SqliteStore> config;
  std::unique_ptr<storage::SqliteSendingStore> store;
  base::ManualClock clock{base::TimePoint(std::chrono::seconds(1700000000))};
  std::unique_ptr<domain::ControlPlane> control;
  std::unique_ptr<Sender> sender;
  explicit Pipeline(const std::string& path, domain::AccountSettings account = {}) {
    config = storage::SqliteStore::open(path);
    store = storage::SqliteSendingStore::open(path);
    control = std::make_unique<domain::ControlPlane>(*config, clock, account);
    sender = std::make_unique<Sender>(*config, *store, clock, account);
  }
};

SendRequest simple_to(std::vector<std::string> to) {
  SendRequest r;
  r.operation = "SendEmail";
  r.source = "Sender Name <sender@example.com>";
  r.to = std::move(to);
  r.simple = SimpleBody{};
  r.simple->subject.data = "Hello";
  r.simple->text = TextPart{"Body text", "UTF-8"};
  r.caller_identity = "ses_user";
  r.source_ip = "192.0.2.0";
  return r;
}

domain::ConfigurationSet named_set(std::string name) {
  domain::ConfigurationSet s;
  s.name = std::move(name);
  return s;
}

DeliveryOptions options(std::size_t batch, std::string mta = "mta.test") {
  DeliveryOptions o;
  o.batch = batch;
  o.reporting_mta = std::move(mta);
  return o;
}

std::vector<domain::LoggedEvent> events_of(domain::SendingStore& s, const std::string& id) {
  domain::EventFilter f;
  f.message_id = id;
  f.limit = 1000;
  return s.events(f);
}

TEST(Sender, RejectsLikeSes) {
  TempDb db;
  Pipeline p(db.path);
  auto r = simple_to({"a@example.com"});
  r.configuration_set = "Missing";
  auto res = p.sender->send(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, SendErrorKind::ConfigurationSetDoesNotExist);

  r = simple_to({"not an address"});
  res = p.sender->send(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, SendErrorKind::MessageRejected);
  EXPECT_EQ(res.error().message, "Illegal address");

  std::vector<std::string> many;
  for (int i = 0; i < 51; ++i) many.push_back("r" + std::to_string(i) + "@example.com");
  res = p.sender->send(simple_to(many));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, SendErrorKind::InvalidParameter);
  many.pop_back();
  EXPECT_TRUE(p.sender->send(simple_to(many)));

  r = simple_to({"a@example.com"});
  r.tags = {{"bad tag", "v", false}};
  res = p.sender->send(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, SendErrorKind::InvalidParameter);

  r = simple_to({"a@example.com"});
  r.simple.reset();
  r.source.reset();
  r.raw = "Subject: no from\r\nTo: a@example.com\r\n\r\nbody";
  res = p.sender->send(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, SendErrorKind::MessageRejected);

  r = simple_to({"a@example.com"});
  r.simple.reset();
  r.raw = std::string(kMaxMessageBytesV1 + 1, 'x');
  res = p.sender->send(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, SendErrorKind::InvalidParameter);
}

TEST(Sender, SandboxNeedsVerifiedSourceOrDomain) {
  TempDb db;
  domain::AccountSettings account;
  account.sandbox = true;
  Pipeline p(db.path, account);
  auto res = p.sender->send(simple_to({"a@example.com"}));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, SendErrorKind::MessageRejected);
  EXPECT_NE(res.error().message.find("Email address is not verified"), std::string::npos);
  ASSERT_TRUE(p.control->create_identity("example.com", domain::IdentityType::Domain, false));
  EXPECT_TRUE(p.sender->send(simple_to({"a@example.com"})));
}

TEST(Sender, RawHeadersAreReadRemovedAndLoseToApiParameters) {
  TempDb db;
  Pipeline p(db.path);
  ASSERT_TRUE(p.control->create_configuration_set(named_set("FromHeader")));
  ASSERT_TRUE(p.control->create_configuration_set(named_set("FromParam")));
  SendRequest r;
  r.operation = "SendRawEmail";
  r.raw =
      "X-SES-CONFIGURATION-SET: FromHeader\r\n"
      "X-SES-MESSAGE-TAGS: campaign=book, genre=scifi\r\n"
      "From: sender@example.com\r\nTo: someone@example.com\r\nSubject: raw\r\n"
      "Message-ID: <original@client>\r\n\r\nhello\r\n";
  auto id = p.sender->send(r);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_TRUE(looks_like_message_id(*id));
  auto raw = p.store->raw_message(*id);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->find("X-SES-"), std::string::npos);
  EXPECT_NE(raw->find("Message-ID: <" + *id + "@email.amazonses.com>"), std::string::npos);
  auto ev = events_of(*p.store, *id);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event_type, "Send");
  EXPECT_EQ(ev[0].configuration_set, "FromHeader");
  EXPECT_TRUE(ev[0].tags_from_header);
  auto rec = json::parse(ev[0].record);
  const auto& mail = rec.at("mail").as_object();
  EXPECT_EQ(mail.at("tags").at("campaign").at(0).as_string(), "book");
  EXPECT_EQ(mail.at("tags").at("ses:configuration-set").at(0).as_string(), "FromHeader");
  EXPECT_EQ(mail.at("headers").at(0).at("name").as_string(), "X-SES-CONFIGURATION-SET");
  EXPECT_EQ(mail.at("commonHeaders").at("messageId").as_string(), *id);

  // Parameters win; API tags replace header tags entirely.
  r.configuration_set = "FromParam";
  r.tags = {{"api", "yes", false}};
  id = p.sender->send(r);
  ASSERT_TRUE(id);
  ev = events_of(*p.store, *id);
  EXPECT_EQ(ev[0].configuration_set, "FromParam");
  EXPECT_FALSE(ev[0].tags_from_header);
  rec = json::parse(ev[0].record);
  const auto& tags = rec.at("mail").at("tags").as_object();
  EXPECT_TRUE(tags.contains("api"));
  EXPECT_FALSE(tags.contains("campaign"));
  EXPECT_EQ(tags.at("ses:operation").at(0).as_string(), "SendRawEmail");
}

TEST(Delivery, EicarIsSentThenRejectedNotDelivered) {
  TempDb db;
  Pipeline p(db.path);
  auto r = simple_to({"someone@example.com"});
  r.simple->text->data = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
  auto id = p.sender->send(r);
  ASSERT_TRUE(id);
  DeliveryWorker w(*p.store, p.clock, {});
  EXPECT_EQ(w.run_once(), 1u);
  auto ev = events_of(*p.store, *id);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].event_type, "Reject");
  EXPECT_NE(ev[1].record.find("\"reason\":\"Bad content\""), std::string::npos);
  EXPECT_TRUE(p.store->mailbox(std::nullopt, 10).empty());
}

TEST(Delivery, MailboxAndExactlyOnce) {
  TempDb db;
  Pipeline p(db.path);
  auto id = p.sender->send(simple_to({"someone@example.com", "success@simulator.amazonses.com"}));
  ASSERT_TRUE(id);
  p.clock.advance(std::chrono::milliseconds(1500));
  DeliveryWorker w(*p.store, p.clock, options(256, "mta.test"));
  EXPECT_EQ(w.run_once(), 1u);
  EXPECT_EQ(w.run_once(), 0u);
  auto ev = events_of(*p.store, *id);
  ASSERT_EQ(ev.size(), 3u);
  auto d = json::parse(ev[1].record).at("delivery");
  EXPECT_EQ(d.at("processingTimeMillis").as_int64(), 1500);
  EXPECT_EQ(d.at("reportingMTA").as_string(), "mta.test");
  auto box = p.store->mailbox(std::string("someone@example.com"), 10);
  ASSERT_EQ(box.size(), 1u);
  auto one = p.store->mailbox_message(*id);
  ASSERT_TRUE(one);
  EXPECT_NE(one->raw.find("Subject: Hello"), std::string::npos);
  // A completion applied twice is skipped.
  domain::QueuedMessage q;
  q.id = 1;
  q.message_id = *id;
  q.recipients = {"success@simulator.amazonses.com"};
  EXPECT_EQ(p.store->complete({plan_delivery(q, 0, "x")}, 0), 0u);
  EXPECT_EQ(events_of(*p.store, *id).size(), 3u);
}

// Sends in a child process that is killed with SIGKILL mid-burst; every MessageId the child
// got back is delivered exactly once after "restart", with its Send and Delivery events.
TEST(Durability, KillNineDuringBurstLosesNothingAndDuplicatesNothing) {
  TempDb db;
  { Pipeline init(db.path); }
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    Pipeline p(db.path);
    DeliveryWorker w(*p.store, p.clock, options(7));
    w.start();
    for (int i = 0;; ++i) {
      auto id = p.sender->send(simple_to(
          {"user" + std::to_string(i % 5) + "@example.com", "success@simulator.amazonses.com"}));
      if (!id) ::_exit(3);
      std::string line = *id + "\n";
      if (::write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        ::_exit(4);
      }
    }
  }
  ::close(fds[1]);
  std::set<std::string> acknowledged;
  std::string buf;
  char chunk[4096];
  while (acknowledged.size() < 300) {
    ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    ASSERT_GT(n, 0) << "child died early";
    buf.append(chunk, static_cast<std::size_t>(n));
    for (auto nl = buf.find('\n'); nl != std::string::npos; nl = buf.find('\n')) {
      acknowledged.insert(buf.substr(0, nl));
      buf.erase(0, nl + 1);
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ::close(fds[0]);

  Pipeline p(db.path);  // "restart"
  DeliveryWorker w(*p.store, p.clock, options(50));
  while (w.run_once() > 0) {
  }
  std::map<std::string, std::map<std::string, int>> counts;
  domain::EventFilter f;
  f.limit = 1000;
  for (;;) {
    auto batch = p.store->events(f);
    if (batch.empty()) break;
    for (const auto& e : batch) ++counts[e.message_id][e.event_type];
    f.after = batch.back().seq;
  }
  for (const auto& id : acknowledged) {
    EXPECT_EQ(counts[id]["Send"], 1) << id;
    EXPECT_EQ(counts[id]["Delivery"], 2) << id;  // one per recipient
  }
  for (const auto& [id, c] : counts) {  // also messages committed but not acknowledged
    EXPECT_EQ(c.at("Send"), 1) << id;
    EXPECT_EQ(c.at("Delivery"), 2) << id;
    auto box = p.store->mailbox_message(id);
    EXPECT_TRUE(box) << id;
  }
  EXPECT_GE(counts.size(), acknowledged.size());
  EXPECT_TRUE(p.store->queued(0, 10, 0, 1).empty());
}

// Records what it is given and keeps cursors in memory (a real sink commits them with the
// metrics). Account-level datapoints are kept apart.
struct FakeSink : domain::MetricSink {
  std::vector<std::pair<std::string, domain::Datapoint>> points;
  std::vector<domain::Datapoint> account;
  std::vector<domain::MetricDrop> drops;
  std::map<std::string, std::int64_t, std::less<>> cursors;
  std::optional<std::int64_t> cursor(std::string_view key) override {
    auto it = cursors.find(key);
    if (it == cursors.end()) return std::nullopt;
    return it->second;
  }
  void apply(std::string_view key, std::int64_t seq, const std::vector<domain::Datapoint>& dps,
             const std::vector<domain::MetricDrop>& ds) override {
    for (const auto& d : dps) {
      if (key == domain::kAccountCursorKey) {
        account.push_back(d);
      } else {
        points.emplace_back(std::string(key), d);
      }
    }
    drops.insert(drops.end(), ds.begin(), ds.end());
    cursors[std::string(key)] = seq;
  }
};

TEST(Dispatcher, PublishesEachMatchingEventOnceAcrossRestarts) {
  TempDb db;
  Pipeline p(db.path);
  ASSERT_TRUE(p.control->create_configuration_set(named_set("Set1")));
  domain::EventDestination d;
  d.name = "cw";
  d.enabled = true;
  d.matching_event_types = {domain::EventType::Send, domain::EventType::Delivery};
  d.cloudwatch = domain::CloudWatchDestination{
      {{"ses:configuration-set", domain::DimensionValueSource::MessageTag, "none"},
       {"campaign", domain::DimensionValueSource::MessageTag, "none"}}};
  auto st = p.control->create_event_destination("Set1", d);
  ASSERT_TRUE(st) << st.error().message;

  auto r = simple_to({"success@simulator.amazonses.com", "bounce@simulator.amazonses.com"});
  r.configuration_set = "Set1";
  r.tags = {{"campaign", "book", false}};
  ASSERT_TRUE(p.sender->send(r));
  SendRequest raw;
  raw.operation = "SendRawEmail";
  raw.raw =
      "X-SES-CONFIGURATION-SET: Set1\r\nX-SES-MESSAGE-TAGS: campaign=bad!value\r\n"
      "From: sender@example.com\r\nTo: success@simulator.amazonses.com\r\n\r\nx";
  ASSERT_TRUE(p.sender->send(raw));
  ASSERT_TRUE(p.sender->send(simple_to({"success@simulator.amazonses.com"})));  // no set
  DeliveryWorker w(*p.store, p.clock, {});
  while (w.run_once() > 0) {
  }

  FakeSink sink;
  {
    DispatcherOptions two;
    two.batch = 2;
    EventDispatcher disp(*p.store, *p.config, sink, two);
    while (disp.run_once() > 0) {
    }
  }
  // Send+Delivery of the simple message; the raw one's header tag has a bad character.
  ASSERT_EQ(sink.points.size(), 2u);
  EXPECT_EQ(sink.points[0].first, "Set1/cw");
  EXPECT_EQ(sink.points[0].second.metric_name, "Send");
  EXPECT_EQ(sink.points[1].second.metric_name, "Delivery");
  EXPECT_EQ(sink.points[0].second.dimensions.at(1).second, "book");
  EXPECT_EQ(sink.drops.size(), 2u);  // Send and Delivery of the raw message
  // Account level: 3 messages sent; deliveries to 3 success addresses and 1 bounce.
  auto count = [&](std::string_view name) {
    return std::count_if(sink.account.begin(), sink.account.end(),
                         [&](const domain::Datapoint& d) { return d.metric_name == name; });
  };
  EXPECT_EQ(count("Send"), 3);
  EXPECT_EQ(count("Bounce"), 1);
  EXPECT_EQ(count("Delivery"), 3);
  for (const auto& d : sink.account) EXPECT_TRUE(d.dimensions.empty());

  // Rewind the dispatcher's own position: destination cursors still prevent double counting.
  p.store->advance_cursor("", "", 0);
  EventDispatcher again(*p.store, *p.config, sink, {});
  again.run_once();
  EXPECT_EQ(sink.points.size(), 2u);
  EXPECT_EQ(sink.account.size(), 7u);

  ASSERT_TRUE(p.sender->send(r));
  while (w.run_once() > 0) {
  }
  while (again.run_once() > 0) {
  }
  EXPECT_EQ(sink.points.size(), 4u);
}

}  // namespace
}  // namespace mailtally::sending
