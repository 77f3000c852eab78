#include "sending/delivery.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "sending/event_record.hpp"
#include "sending/ids.hpp"
#include "sending/simulator.hpp"

namespace mailtally::sending {

std::string local_host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

namespace {

std::string feedback_id(double now) {
  auto tp = base::TimePoint(
      std::chrono::duration_cast<base::TimePoint::duration>(std::chrono::duration<double>(now)));
  return make_message_id(tp);
}

}  // namespace

domain::SendingStore::Completion plan_delivery(const domain::QueuedMessage& m, double now,
                                               const std::string& mta) {
  domain::SendingStore::Completion c;
  c.id = m.id;
  c.message_id = m.message_id;
  c.configuration_set = m.configuration_set;
  if (m.has_virus) {
    c.events.push_back({"Reject", reject_record(m.mail)});
    return c;
  }
  auto processing = static_cast<long long>(std::llround((now - m.created_at) * 1000.0));
  if (processing < 0) processing = 0;
  auto delivery = [&](const std::string& rcpt, std::string smtp) {
    DeliveryFacts d{now, processing, {rcpt}, std::move(smtp), mta};
    c.events.push_back({"Delivery", delivery_record(m.mail, d)});
  };
  BounceFacts general{"Permanent", "General", {}, now, feedback_id(now), "dsn; " + mta};
  BounceFacts suppressed{"Permanent", "Suppressed", {}, now, feedback_id(now), ""};
  std::vector<std::string> complained;
  for (const auto& rcpt : m.recipients) {
    auto sim = classify_simulator(rcpt);
    if (!sim) {
      delivery(rcpt, "250 2.0.0 OK");
      c.mailbox_recipients.push_back(rcpt);
      continue;
    }
    switch (*sim) {
      case SimulatorOutcome::Success:
      case SimulatorOutcome::Ooto:
        delivery(rcpt, "250 2.6.0 Message received");
        break;
      case SimulatorOutcome::Complaint:
        delivery(rcpt, "250 2.6.0 Message received");
        complained.push_back(rcpt);
        break;
      case SimulatorOutcome::Bounce:
        general.recipients.push_back({rcpt, "failed", "5.1.1", "smtp; 550 5.1.1 user unknown"});
        break;
      case SimulatorOutcome::SuppressionList:
        suppressed.recipients.push_back(
            {rcpt, "failed", "5.1.1",
             "Amazon SES has suppressed sending to this address because "
             "it has a recent history of bouncing as an invalid address."});
        break;
    }
  }
  if (!general.recipients.empty()) c.events.push_back({"Bounce", bounce_record(m.mail, general)});
  if (!suppressed.recipients.empty()) {
    c.events.push_back({"Bounce", bounce_record(m.mail, suppressed)});
  }
  if (!complained.empty()) {
    ComplaintFacts f;
    f.recipients = complained;
    f.timestamp = now;
    f.feedback_id = feedback_id(now);
    f.user_agent = "Amazon SES Mailbox Simulator";
    f.feedback_type = "abuse";
    f.arrival_date = now;
    c.events.push_back({"Complaint", complaint_record(m.mail, f)});
  }
  return c;
}

DeliveryWorker::DeliveryWorker(domain::SendingStore& store, const base::Clock& clock,
                               DeliveryOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      loop_("delivery worker", options_.threads, options_.batch, options_.poll,
            [this](std::size_t shard) { return run_once(shard, options_.threads); }) {
  if (options_.threads == 0) options_.threads = 1;
  if (options_.batch == 0) options_.batch = 1;
  if (options_.reporting_mta.empty()) options_.reporting_mta = local_host_name();
}

DeliveryWorker::~DeliveryWorker() { stop(); }

void DeliveryWorker::start() {
  loop_.set_linger(options_.linger);
  loop_.set_background(options_.background);
  loop_.start();
}
void DeliveryWorker::notify() { loop_.notify(); }
void DeliveryWorker::stop() { loop_.stop(); }

std::size_t DeliveryWorker::run_once(std::size_t shard, std::size_t shards) {
  auto batch = store_.queued(0, options_.batch, shard, shards);
  if (batch.empty()) return 0;
  double now = epoch_seconds(clock_.now());
  std::vector<domain::SendingStore::Completion> plans;
  plans.reserve(batch.size());
  for (const auto& m : batch) plans.push_back(plan_delivery(m, now, options_.reporting_mta));
  std::size_t n = store_.complete(plans, now);
  applied_ += n;
  if (n > 0 && options_.on_applied) options_.on_applied();
  return batch.size();
}

}  // namespace mailtally::sending
