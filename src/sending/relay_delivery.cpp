#include "sending/relay_delivery.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>

#include "base/time_format.hpp"
#include "sending/event_record.hpp"
#include "sending/ids.hpp"

namespace mailtally::sending {

namespace json = boost::json;

namespace {

std::string feedback_id(double now) {
  auto tp = base::TimePoint(
      std::chrono::duration_cast<base::TimePoint::duration>(std::chrono::duration<double>(now)));
  return make_message_id(tp);
}

bool contains_nocase(std::string_view text, std::string_view word) {
  auto it = std::search(text.begin(), text.end(), word.begin(), word.end(), [](char a, char b) {
    return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b;
  });
  return it != text.end();
}

std::string delay_record(
    std::string_view mail, const std::string& type,
    const std::vector<std::pair<std::string, const relay::RecipientResult*>>& rs, double now,
    double expiration, const std::string& mta) {
  json::object o;
  o["timestamp"] = iso_millis(now);
  o["delayType"] = type;
  o["expirationTime"] = iso_millis(expiration);
  json::array delayed;
  for (const auto& [rcpt, r] : rs) {
    delayed.push_back(json::object{
        {"emailAddress", rcpt}, {"status", r->status}, {"diagnosticCode", "smtp; " + r->response}});
  }
  o["delayedRecipients"] = std::move(delayed);
  o["reportingMTA"] = mta;
  std::string out = "{\"eventType\":\"DeliveryDelay\",\"mail\":";
  out += mail;
  out += ",\"deliveryDelay\":";
  out += json::serialize(o);
  out += '}';
  return out;
}

}  // namespace

double retry_delay(const RetryPolicy& p, int attempts) {
  double d = p.initial * std::pow(2.0, std::max(0, attempts - 1));
  return std::min(d, std::max(p.initial, p.max));
}

std::string envelope_sender(std::string_view mail_json) {
  boost::system::error_code ec;
  json::value v = json::parse(mail_json, ec);
  if (ec || !v.is_object()) return {};
  const auto* src = v.as_object().if_contains("source");
  if (!src || !src->is_string()) return {};
  std::string_view s = src->as_string();
  auto lt = s.rfind('<');
  auto gt = s.rfind('>');
  if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt) {
    return std::string(s.substr(lt + 1, gt - lt - 1));
  }
  return std::string(s);
}

std::string delay_type_of(const relay::RecipientResult& r) {
  if (r.communication) return "TransientCommunicationFailure";
  if (r.status.size() >= 5 && r.status.substr(1) == ".2.2") return "MailboxFull";
  if ((r.status.size() >= 5 && r.status.substr(1) == ".7.1") ||
      contains_nocase(r.response, "spam")) {
    return "SpamDetected";
  }
  return "General";
}

std::string with_outgoing_tags(std::string_view mail_json, const std::string& ip,
                               const std::string& tls_version) {
  boost::system::error_code ec;
  json::value v = json::parse(mail_json, ec);
  if (ec || !v.is_object()) return std::string(mail_json);
  auto& tags = v.as_object()["tags"];
  if (!tags.is_object()) tags = json::object();
  if (!ip.empty()) tags.as_object()["ses:outgoing-ip"] = json::array{json::value(ip)};
  if (!tls_version.empty()) {
    tags.as_object()["ses:outgoing-tls-version"] = json::array{json::value(tls_version)};
  }
  return json::serialize(v);
}

void apply_relay_result(const RelayAttempt& a, const relay::SendResult& result, double now,
                        domain::SendingStore::Completion& out) {
  const auto& m = a.message;
  auto processing = static_cast<long long>(std::llround((now - m.created_at) * 1000.0));
  if (processing < 0) processing = 0;
  const double expiration = m.created_at + a.retry.window;
  const bool expired = now >= expiration;
  std::string delivered_mail;  // the mail object with the outgoing auto-tags, built once
  BounceFacts hard{"Permanent", "General", {}, now, feedback_id(now), "dsn; " + a.reporting_mta};
  BounceFacts soft{"Transient", "General", {}, now, feedback_id(now), "dsn; " + a.reporting_mta};
  std::vector<std::pair<std::string, const relay::RecipientResult*>> delayed;
  for (std::size_t i = 0; i < a.recipients.size() && i < result.recipients.size(); ++i) {
    const auto& rcpt = a.recipients[i];
    const auto& r = result.recipients[i];
    switch (r.outcome) {
      case relay::Outcome::Delivered: {
        if (delivered_mail.empty()) {
          delivered_mail = with_outgoing_tags(m.mail, result.local_ip, result.tls_version);
        }
        DeliveryFacts d{now, processing, {rcpt}, r.response, a.reporting_mta};
        out.events.push_back({"Delivery", delivery_record(delivered_mail, d)});
        break;
      }
      case relay::Outcome::Permanent:
        hard.recipients.push_back({rcpt, "failed", r.status, "smtp; " + r.response});
        if (domain::reasons_include(a.suppressed_reasons, domain::kSuppressBounce)) {
          out.suppress.push_back(
              {rcpt, std::string(domain::kSuppressBounce), now, m.message_id, hard.feedback_id});
        }
        break;
      case relay::Outcome::Transient:
        if (expired) {
          soft.recipients.push_back({rcpt, "failed", r.status, "smtp; " + r.response});
        } else {
          delayed.emplace_back(rcpt, &r);
        }
        break;
    }
  }
  if (!hard.recipients.empty()) out.events.push_back({"Bounce", bounce_record(m.mail, hard)});
  if (!soft.recipients.empty()) out.events.push_back({"Bounce", bounce_record(m.mail, soft)});
  if (!delayed.empty()) {
    std::string type = delay_type_of(*delayed.front().second);
    out.events.push_back(
        {"DeliveryDelay", delay_record(m.mail, type, delayed, now, expiration, a.reporting_mta)});
    domain::SendingStore::Completion::Deferral d;
    for (const auto& x : delayed) d.recipients.push_back(x.first);
    d.attempts = m.attempts + 1;
    d.next_attempt_at = std::min(now + retry_delay(a.retry, d.attempts), expiration);
    out.defer = std::move(d);
  }
}

}  // namespace mailtally::sending
