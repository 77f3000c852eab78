#include "sending/event_record.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "base/time_format.hpp"
#include "sending/ids.hpp"

namespace mailtally::sending {
namespace json = boost::json;

namespace {

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::string wrap(std::string_view type, std::string_view mail, std::string_view key,
                 const json::object& body) {
  std::string out;
  out.reserve(mail.size() + 256);
  out += "{\"eventType\":";
  out += json::serialize(json::value(type));
  out += ",\"mail\":";
  out += mail;
  out += ",\"";
  out += key;
  out += "\":";
  out += json::serialize(body);
  out += '}';
  return out;
}

}  // namespace

std::string identity_arn(std::string_view address) {
  return "arn:aws:ses:" + std::string(kRegion) + ":" + std::string(kAccountId) + ":identity/" +
         std::string(address);
}

std::string mail_json(const MailFacts& m) {
  // One arena for the whole document: no allocation per member on this per-message path.
  unsigned char arena[8192];
  json::monotonic_resource resource(arena, sizeof arena);
  json::storage_ptr sp(&resource);
  auto strings_in = [&sp](const std::vector<std::string>& v) {
    json::array a(sp);
    a.reserve(v.size());
    for (const auto& x : v) a.emplace_back(x);
    return a;
  };
  json::object o(sp);
  o.reserve(10);
  o["timestamp"] = iso_millis(m.timestamp);
  o["source"] = m.source;
  o["sourceArn"] = identity_arn(m.source_address);
  o["sendingAccountId"] = kAccountId;
  o["messageId"] = m.message_id;
  o["destination"] = strings_in(m.destination);
  json::array headers(sp);
  headers.reserve(m.headers.size());
  std::size_t bytes = 0;
  bool truncated = false;
  for (const auto& [name, value] : m.headers) {
    bytes += name.size() + value.size() + 4;
    if (bytes > kMaxRecordHeaderBytes) {
      truncated = true;
      break;
    }
    json::object h(sp);
    h.reserve(2);
    h.emplace("name", name);
    h.emplace("value", value);
    headers.emplace_back(std::move(h));
  }
  o["headersTruncated"] = truncated;
  o["headers"] = std::move(headers);
  json::object common(sp);
  if (!m.common.from.empty()) common["from"] = strings_in(m.common.from);
  if (!m.common.reply_to.empty()) common["replyTo"] = strings_in(m.common.reply_to);
  if (m.common.date) common["date"] = *m.common.date;
  if (!m.common.to.empty()) common["to"] = strings_in(m.common.to);
  if (!m.common.cc.empty()) common["cc"] = strings_in(m.common.cc);
  common["messageId"] = m.common.message_id;
  if (m.common.subject) common["subject"] = *m.common.subject;
  o["commonHeaders"] = std::move(common);
  json::object tags(sp);
  for (const auto& t : m.tags) {
    if (auto* existing = tags.if_contains(t.name)) {
      existing->as_array().emplace_back(t.value);
    } else {
      json::array values(sp);
      values.emplace_back(t.value);
      tags.emplace(t.name, std::move(values));
    }
  }
  o["tags"] = std::move(tags);
  return json::serialize(o);
}

std::string send_record(std::string_view mail) { return wrap("Send", mail, "send", {}); }

std::string reject_record(std::string_view mail) {
  return wrap("Reject", mail, "reject", json::object{{"reason", "Bad content"}});
}

std::string rendering_failure_record(std::string_view mail, std::string_view template_name,
                                     std::string_view error_message) {
  boost::system::error_code ec;
  json::value m = json::parse(mail, ec);
  if (!ec && m.is_object()) {
    m.get_object().erase("headers");
    m.get_object().erase("commonHeaders");
  }
  return wrap("Rendering Failure", ec ? mail : std::string_view(json::serialize(m)), "failure",
              json::object{{"errorMessage", error_message}, {"templateName", template_name}});
}

std::string delivery_record(std::string_view mail, const DeliveryFacts& d) {
  json::object o;
  o["timestamp"] = iso_millis(d.timestamp);
  o["processingTimeMillis"] = d.processing_time_millis;
  o["recipients"] = strings(d.recipients);
  o["smtpResponse"] = d.smtp_response;
  o["reportingMTA"] = d.reporting_mta;
  return wrap("Delivery", mail, "delivery", o);
}

std::string bounce_record(std::string_view mail, const BounceFacts& b) {
  json::object o;
  o["bounceType"] = b.bounce_type;
  o["bounceSubType"] = b.bounce_sub_type;
  json::array rs;
  for (const auto& r : b.recipients) {
    json::object x{{"emailAddress", r.email_address}};
    if (!r.action.empty()) x["action"] = r.action;
    if (!r.status.empty()) x["status"] = r.status;
    if (!r.diagnostic_code.empty()) x["diagnosticCode"] = r.diagnostic_code;
    rs.push_back(std::move(x));
  }
  o["bouncedRecipients"] = std::move(rs);
  o["timestamp"] = iso_millis(b.timestamp);
  o["feedbackId"] = b.feedback_id;
  if (!b.reporting_mta.empty()) o["reportingMTA"] = b.reporting_mta;
  return wrap("Bounce", mail, "bounce", o);
}

std::string complaint_record(std::string_view mail, const ComplaintFacts& c) {
  json::object o;
  json::array rs;
  for (const auto& r : c.recipients) rs.push_back(json::object{{"emailAddress", r}});
  o["complainedRecipients"] = std::move(rs);
  o["timestamp"] = iso_millis(c.timestamp);
  o["feedbackId"] = c.feedback_id;
  if (!c.user_agent.empty()) o["userAgent"] = c.user_agent;
  o["complaintFeedbackType"] = c.feedback_type;
  o["arrivalDate"] = iso_millis(c.arrival_date);
  return wrap("Complaint", mail, "complaint", o);
}

std::string open_record(std::string_view mail, const EngagementFacts& o) {
  json::object body;
  body["ipAddress"] = o.ip_address;
  body["timestamp"] = iso_millis(o.timestamp);
  body["userAgent"] = o.user_agent;
  return wrap("Open", mail, "open", body);
}

std::string click_record(std::string_view mail, const EngagementFacts& c) {
  json::object body;
  body["ipAddress"] = c.ip_address;
  body["link"] = c.link;
  json::object tags;
  for (const auto& [name, value] : c.link_tags) {
    if (auto* existing = tags.if_contains(name)) {
      existing->as_array().emplace_back(value);
    } else {
      tags[name] = json::array{json::value(value)};
    }
  }
  body["linkTags"] = std::move(tags);
  body["timestamp"] = iso_millis(c.timestamp);
  body["userAgent"] = c.user_agent;
  return wrap("Click", mail, "click", body);
}

bool event_facts_from_record(std::string_view record, bool tags_from_header,
                             domain::EventFacts& out) {
  boost::system::error_code ec;
  json::value v = json::parse(record, ec);
  if (ec || !v.is_object()) return false;
  const auto* mail = v.as_object().if_contains("mail");
  if (!mail || !mail->is_object()) return false;
  const auto& m = mail->as_object();
  if (const auto* tags = m.if_contains("tags"); tags && tags->is_object()) {
    for (const auto& [name, values] : tags->as_object()) {
      if (!values.is_array()) continue;
      bool from_header = tags_from_header && name.substr(0, 4) != "ses:";
      for (const auto& val : values.as_array()) {
        if (!val.is_string()) continue;
        out.tags.push_back({std::string(name), std::string(val.as_string()), from_header});
      }
    }
  }
  if (const auto* hs = m.if_contains("headers"); hs && hs->is_array()) {
    for (const auto& h : hs->as_array()) {
      if (!h.is_object()) continue;
      const auto* n = h.as_object().if_contains("name");
      const auto* val = h.as_object().if_contains("value");
      if (n && val && n->is_string() && val->is_string()) {
        out.headers.emplace_back(std::string(n->as_string()), std::string(val->as_string()));
      }
    }
  }
  if (const auto* click = v.as_object().if_contains("click"); click && click->is_object()) {
    if (const auto* lt = click->as_object().if_contains("linkTags"); lt && lt->is_object()) {
      for (const auto& [name, values] : lt->as_object()) {
        if (!values.is_array()) continue;
        for (const auto& val : values.as_array()) {
          if (val.is_string()) out.link_tags.emplace_back(name, val.as_string());
        }
      }
    }
  }
  if (const auto* t = m.if_contains("timestamp"); t && t->is_string()) {
    if (auto ts = base::parse_iso8601(t->as_string())) out.timestamp = *ts;
  }
  return true;
}

}  // namespace mailtally::sending
