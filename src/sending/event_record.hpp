// SES event records (spec 10): the `mail` object, built once per message and stored as JSON
// text, and one builder per event type that wraps it. Pure and thread-safe.
//
// Records are JSON text with keys in this order: eventType, mail, then the per-type object
// (send, reject, delivery, bounce, complaint). Timestamps are ISO 8601 with milliseconds.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/publishing.hpp"

namespace mailtally::sending {

inline constexpr std::string_view kAccountId = "123456789012";
inline constexpr std::string_view kRegion = "us-east-1";
inline constexpr std::size_t kMaxRecordHeaderBytes = 10 * 1024;  // headersTruncated above this

struct CommonHeaders {
  std::vector<std::string> from, to, cc, reply_to;
  std::optional<std::string> date;
  std::string message_id;  // the SES MessageId
  std::optional<std::string> subject;
};

struct MailFacts {
  double timestamp = 0;        // epoch seconds, when the send was accepted
  std::string source;          // as given (may be "Name <a@b>")
  std::string source_address;  // a@b (for sourceArn)
  std::string message_id;
  std::vector<std::string> destination;
  std::vector<std::pair<std::string, std::string>> headers;  // original headers, in order
  CommonHeaders common;
  std::vector<domain::MessageTag> tags;
};

// "arn:aws:ses:us-east-1:123456789012:identity/<address>"
std::string identity_arn(std::string_view address);

// The `mail` object as JSON text. Headers beyond kMaxRecordHeaderBytes are left out and
// headersTruncated is then true. Tags become {name: [values]} in first-seen order.
std::string mail_json(const MailFacts& mail);

std::string send_record(std::string_view mail);
std::string reject_record(std::string_view mail);
// Like SES's example, the failure record's `mail` has no headers or commonHeaders.
std::string rendering_failure_record(std::string_view mail, std::string_view template_name,
                                     std::string_view error_message);

struct DeliveryFacts {
  double timestamp = 0;
  long long processing_time_millis = 0;
  std::vector<std::string> recipients;
  std::string smtp_response;  // "250 2.0.0 OK"
  std::string reporting_mta;  // host name
};
std::string delivery_record(std::string_view mail, const DeliveryFacts& d);

struct BouncedRecipient {
  std::string email_address;
  std::string action;           // "failed"
  std::string status;           // "5.1.1"
  std::string diagnostic_code;  // "smtp; 550 5.1.1 user unknown"
};
struct BounceFacts {
  std::string bounce_type;      // Permanent, Transient, Undetermined
  std::string bounce_sub_type;  // General, Suppressed, ...
  std::vector<BouncedRecipient> recipients;
  double timestamp = 0;
  std::string feedback_id;
  std::string reporting_mta;  // "dsn; host"; empty: left out
};
std::string bounce_record(std::string_view mail, const BounceFacts& b);

struct ComplaintFacts {
  std::vector<std::string> recipients;
  double timestamp = 0;
  std::string feedback_id;
  std::string user_agent;
  std::string feedback_type = "abuse";
  double arrival_date = 0;
};
std::string complaint_record(std::string_view mail, const ComplaintFacts& c);

// Open and Click (spec 10.2): who fetched the pixel or followed the link, and when.
struct EngagementFacts {
  double timestamp = 0;
  std::string ip_address;
  std::string user_agent;
  std::string link;                                            // clicks: the original URL
  std::vector<std::pair<std::string, std::string>> link_tags;  // clicks: in link order
};
std::string open_record(std::string_view mail, const EngagementFacts& o);
// `linkTags` is {name: [values]} (always present, {} without tags), as in SES's example.
std::string click_record(std::string_view mail, const EngagementFacts& c);

// Feeds domain::publish: the message tags of a stored record's `mail` (header tags flagged when
// `tags_from_header`: the non-"ses:" tags then came from X-SES-MESSAGE-TAGS) and its headers.
// Click records also give their click.linkTags. Returns false when `record` is not a record
// this module wrote.
bool event_facts_from_record(std::string_view record, bool tags_from_header,
                             domain::EventFacts& out);

}  // namespace mailtally::sending
