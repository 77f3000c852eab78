#include "sending/delivery.hpp"

#include <unistd.h>

#include <algorithm>
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
  DeliveryContext context;
  context.reporting_mta = mta;
  return plan_delivery(m, now, context).completion;
}

DeliveryPlan plan_delivery(const domain::QueuedMessage& m, double now, const DeliveryContext& ctx) {
  const std::string& mta = ctx.reporting_mta;
  DeliveryPlan plan;
  auto& c = plan.completion;
  c.id = m.id;
  c.message_id = m.message_id;
  c.configuration_set = m.configuration_set;
  if (m.has_virus) {
    c.events.push_back({"Reject", reject_record(m.mail)});
    return plan;
  }
  auto processing = static_cast<long long>(std::llround((now - m.created_at) * 1000.0));
  if (processing < 0) processing = 0;
  std::string delivered_mail;  // `mail` with the outgoing auto-tags, built on first use
  auto delivery = [&](const std::string& rcpt, std::string smtp) {
    if (delivered_mail.empty()) delivered_mail = with_outgoing_tags(m.mail, kLocalOutgoingIp, "");
    DeliveryFacts d{now, processing, {rcpt}, std::move(smtp), mta};
    c.events.push_back({"Delivery", delivery_record(delivered_mail, d)});
  };
  BounceFacts general{"Permanent", "General", {}, now, feedback_id(now), "dsn; " + mta};
  BounceFacts suppressed{"Permanent", "Suppressed", {}, now, feedback_id(now), ""};
  BounceFacts on_list{"Permanent", "OnAccountSuppressionList", {}, now, feedback_id(now), ""};
  std::vector<std::string> complained;
  for (const auto& rcpt : m.remaining ? *m.remaining : m.recipients) {
    if (ctx.listed) {
      auto reason = ctx.listed(rcpt);
      if (reason && domain::reasons_include(ctx.suppressed_reasons, *reason)) {
        on_list.recipients.push_back(
            {rcpt, "failed", "5.1.1",
             "Amazon SES did not send the message to this address because it is on the "
             "suppression list for your account."});
        continue;
      }
    }
    auto sim = classify_simulator(rcpt);
    if (!sim) {
      if (ctx.relay) {
        plan.relay_recipients.push_back(rcpt);
      } else {
        delivery(rcpt, "250 2.0.0 OK");
        c.mailbox_recipients.push_back(rcpt);
      }
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
  if (!on_list.recipients.empty()) c.events.push_back({"Bounce", bounce_record(m.mail, on_list)});
  if (!complained.empty()) {
    ComplaintFacts f;
    f.recipients = complained;
    f.timestamp = now;
    f.feedback_id = feedback_id(now);
    f.user_agent = "Amazon SES Mailbox Simulator";
    f.feedback_type = "abuse";
    f.arrival_date = now;
    c.events.push_back({"Complaint", complaint_record(m.mail, f)});
    if (domain::reasons_include(ctx.suppressed_reasons, domain::kSuppressComplaint)) {
      for (const auto& r : complained) {
        c.suppress.push_back(
            {r, std::string(domain::kSuppressComplaint), now, m.message_id, f.feedback_id});
      }
    }
  }
  return plan;
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
void DeliveryWorker::stop() {
  loop_.stop();
  if (!options_.node_id.empty()) store_.release_claims(options_.node_id);
}

DeliveryContext DeliveryWorker::context_for(const domain::QueuedMessage& m, BatchCache& cache) {
  DeliveryContext ctx;
  ctx.reporting_mta = options_.reporting_mta;
  ctx.relay = options_.relay != nullptr;
  const bool need_set = options_.suppression || ctx.relay;
  const BatchCache::SetFacts* set = nullptr;
  if (options_.config && !m.configuration_set.empty() && need_set) {
    auto it = cache.sets.find(m.configuration_set);
    if (it == cache.sets.end()) {
      BatchCache::SetFacts facts;
      if (auto rec = options_.config->get_configuration_set(m.configuration_set)) {
        facts.suppressed_reasons = rec->set.suppressed_reasons;
        facts.require_tls = rec->set.tls_policy == domain::TlsPolicy::Require;
      }
      it = cache.sets.emplace(m.configuration_set, std::move(facts)).first;
    }
    set = &it->second;
    ctx.require_tls = set->require_tls;
  }
  if (options_.suppression) {
    if (set && set->suppressed_reasons) {
      ctx.suppressed_reasons = *set->suppressed_reasons;
    } else {
      if (!cache.account_reasons) {
        cache.account_reasons = options_.suppression->account_suppressed_reasons();
      }
      ctx.suppressed_reasons = *cache.account_reasons;
    }
    if (!ctx.suppressed_reasons.empty()) {
      auto* store = options_.suppression;
      ctx.listed = [store](const std::string& address) -> std::optional<std::string> {
        auto d = store->get_suppressed(address);
        if (!d) return std::nullopt;
        return d->reason;
      };
    }
  }
  return ctx;
}

std::size_t DeliveryWorker::run_once(std::size_t shard, std::size_t shards) {
  double now = epoch_seconds(clock_.now());
  std::size_t limit = options_.batch;
  if (!options_.node_id.empty() && options_.relay) limit = std::min(limit, options_.relay_claim);
  auto batch = store_.claim(options_.node_id, limit, shard, shards, now, options_.lease_seconds);
  if (batch.empty()) return 0;
  std::vector<domain::SendingStore::Completion> plans;
  plans.reserve(batch.size());
  std::size_t n = 0;
  std::optional<relay::RecipientResult> unreachable;  // the batch's first failed connect
  BatchCache cache;
  for (const auto& m : batch) {
    DeliveryContext ctx = context_for(m, cache);
    DeliveryPlan plan = plan_delivery(m, now, ctx);
    if (plan.relay_recipients.empty()) {
      plans.push_back(std::move(plan.completion));
      continue;
    }
    relay::SendResult sent;
    if (unreachable) {
      sent.recipients.assign(plan.relay_recipients.size(), *unreachable);
    } else {
      relay::Envelope env{envelope_sender(m.mail), plan.relay_recipients, m.raw, ctx.require_tls};
      sent = options_.relay->send(env);
      // Could not even connect: the relay is down for the rest of this batch too.
      for (const auto& r : sent.recipients) {
        if (r.communication && sent.local_ip.empty()) unreachable = r;
      }
    }
    RelayAttempt attempt{m, plan.relay_recipients, ctx.suppressed_reasons, options_.reporting_mta,
                         options_.retry};
    apply_relay_result(attempt, sent, epoch_seconds(clock_.now()), plan.completion);
    // Delivered: commit at once, so a crash re-delivers as little as possible.
    n += store_.complete({plan.completion}, epoch_seconds(clock_.now()));
  }
  n += store_.complete(plans, now);
  applied_ += n;
  if (n > 0 && options_.on_applied) options_.on_applied();
  return batch.size();
}

}  // namespace mailtally::sending
