#include "sending/sender.hpp"

#include <algorithm>

#include "base/crypto.hpp"
#include "domain/rules.hpp"
#include "sending/event_record.hpp"
#include "sending/header_block.hpp"
#include "sending/ids.hpp"
#include "sending/mime_parse.hpp"
#include "sending/tags.hpp"

namespace mailtally::sending {
namespace {

base::Unexpected<SendError> fail(SendErrorKind kind, std::string message, std::string set = {}) {
  return base::unexpected(SendError{kind, std::move(message), std::move(set)});
}

constexpr std::string_view kMessageIdDomain = "email.amazonses.com";

// What the intake of either content kind yields.
struct Prepared {
  std::string raw;  // as delivered
  std::vector<std::pair<std::string, std::string>> original_headers;
  CommonHeaders common;
  std::string source;          // as shown
  std::string source_address;  // bare
  std::vector<std::string> recipients;
  std::optional<std::string> header_configuration_set;
  std::vector<domain::MessageTag> header_tags;
  bool has_virus = false;
};

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

// The bare address of "Name <a@b>" or "a@b"; empty when there is not exactly one.
std::string bare_address(std::string_view shown) {
  // The common case, a plain ASCII local@domain without display name, comments, quotes or
  // groups, is its own bare address; anything else goes to the MIME library's parser.
  bool plain = !shown.empty() && std::count(shown.begin(), shown.end(), '@') == 1;
  for (char c : shown) {
    if (!plain) break;
    plain =
        c > ' ' && c < 0x7f && std::string_view("<>\"(),:;\\[]").find(c) == std::string_view::npos;
  }
  if (plain) return std::string(shown);
  auto list = parse_address_list(shown);
  return list.size() == 1 ? list[0] : std::string();
}

std::string domain_of(std::string_view address) {
  auto at = address.rfind('@');
  std::string d(at == std::string_view::npos ? std::string_view() : address.substr(at + 1));
  for (auto& c : d) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return d;
}

base::Expected<Prepared, SendError> prepare_simple(const SendRequest& r, const std::string& id,
                                                   double now) {
  Prepared p;
  if (!r.source || r.source->empty()) {
    return fail(SendErrorKind::MessageRejected, "Missing required header 'From'.");
  }
  p.source = *r.source;
  p.source_address = bare_address(p.source);
  p.recipients = r.to;
  p.recipients.insert(p.recipients.end(), r.cc.begin(), r.cc.end());
  p.recipients.insert(p.recipients.end(), r.bcc.begin(), r.bcc.end());
  SimpleContent c;
  c.from = p.source;
  c.to = r.to;
  c.cc = r.cc;
  c.reply_to = r.reply_to;
  c.subject = r.simple->subject;
  c.text = r.simple->text;
  c.html = r.simple->html;
  c.extra_headers = r.simple->headers;
  c.message_id_header = "<" + id + "@" + std::string(kMessageIdDomain) + ">";
  c.date = now;
  // The message id's random UUID part (122 random bits) makes the boundary unique; 47 chars.
  c.boundary = "----=_Part_" + id.substr(17, 36);
  p.raw = build_simple_message(c);
  for (auto& h : split_headers(p.raw).headers) {
    p.original_headers.emplace_back(std::move(h.name), std::move(h.value));
  }
  p.common.from = {p.source};
  p.common.to = r.to;
  p.common.cc = r.cc;
  p.common.reply_to = r.reply_to;
  p.common.subject = r.simple->subject.data;
  p.common.date = rfc5322_date(now);
  p.has_virus = contains_eicar(c.text ? c.text->data : std::string()) ||
                contains_eicar(c.html ? c.html->data : std::string()) ||
                contains_eicar(c.subject.data);
  return p;
}

base::Expected<Prepared, SendError> prepare_raw(const SendRequest& r, const std::string& id,
                                                double now) {
  Prepared p;
  const std::string& raw = *r.raw;
  HeaderBlock block = split_headers(raw);
  if (block.headers.empty()) {
    return fail(SendErrorKind::InvalidParameter, "The message has no header fields.");
  }
  for (const auto& h : block.headers) {
    p.original_headers.emplace_back(h.name, h.value);
    if (iequal(h.name, "X-SES-CONFIGURATION-SET") && !p.header_configuration_set) {
      p.header_configuration_set = trim(h.value);
    } else if (iequal(h.name, "X-SES-MESSAGE-TAGS") && p.header_tags.empty()) {
      p.header_tags = parse_message_tags_header(h.value);
    }
  }
  std::string error;
  auto parsed = parse_message(raw, &error);
  if (!parsed) return fail(SendErrorKind::InvalidParameter, error);
  if (r.source && !r.source->empty()) {
    p.source = *r.source;
  } else if (!parsed->from.empty()) {
    p.source = parsed->from.front();
  } else {
    return fail(SendErrorKind::MessageRejected, "Missing required header 'From'.");
  }
  p.source_address =
      r.source && !r.source->empty()
          ? bare_address(p.source)
          : (parsed->from_addresses.empty() ? std::string() : parsed->from_addresses.front());
  if (!r.to.empty()) {
    p.recipients = r.to;
  } else {
    p.recipients = parsed->to_addresses;
    p.recipients.insert(p.recipients.end(), parsed->cc_addresses.begin(),
                        parsed->cc_addresses.end());
    p.recipients.insert(p.recipients.end(), parsed->bcc_addresses.begin(),
                        parsed->bcc_addresses.end());
  }
  p.common.from = parsed->from;
  p.common.to = parsed->to;
  p.common.cc = parsed->cc;
  p.common.subject = parsed->subject;
  p.common.date = parsed->date ? *parsed->date : rfc5322_date(now);
  p.has_virus = parsed->has_eicar;
  // SES removes its own headers and sets Message-ID and Date of the delivered copy.
  p.raw = remove_headers(raw, {"X-SES-CONFIGURATION-SET", "X-SES-MESSAGE-TAGS", "X-SES-SOURCE-ARN",
                               "X-SES-FROM-ARN", "X-SES-RETURN-PATH-ARN"});
  p.raw = set_header(p.raw, "Message-ID", "<" + id + "@" + std::string(kMessageIdDomain) + ">");
  if (!parsed->date) p.raw = set_header(p.raw, "Date", rfc5322_date(now));
  return p;
}

}  // namespace

Sender::Sender(domain::ConfigStore& config, domain::SendingStore& store, const base::Clock& clock,
               domain::AccountSettings account, std::function<void()> on_enqueued)
    : config_(config),
      store_(store),
      clock_(clock),
      account_(account),
      on_enqueued_(std::move(on_enqueued)) {}

base::Expected<std::string, SendError> Sender::send(const SendRequest& r) {
  auto accepted = accept(r);
  if (!accepted) return base::unexpected(std::move(accepted.error()));
  store_.enqueue(accepted->message, accepted->events, accepted->now);
  if (on_enqueued_) on_enqueued_();
  return std::move(accepted->message.message_id);
}

void Sender::send_async(const SendRequest& r, SendDone done) {
  auto accepted = accept(r);
  if (!accepted) {
    done(base::unexpected(std::move(accepted.error())));
    return;
  }
  std::string id = accepted->message.message_id;
  store_.enqueue_async(std::move(accepted->message), std::move(accepted->events), accepted->now,
                       [this, id = std::move(id), done = std::move(done)](
                           std::int64_t, std::exception_ptr error) mutable {
                         if (error) {
                           std::string why = "the message could not be stored";
                           try {
                             std::rethrow_exception(error);
                           } catch (const std::exception& e) {
                             why += std::string(": ") + e.what();
                           } catch (...) {
                           }
                           done(base::unexpected(SendError{SendErrorKind::Internal, why, {}}));
                           return;
                         }
                         if (on_enqueued_) on_enqueued_();
                         done(std::move(id));
                       });
}

base::Expected<Sender::Accepted, SendError> Sender::accept(const SendRequest& r) {
  if (!account_.sending_enabled) {
    return fail(SendErrorKind::AccountSendingPaused, "Sending is paused for this account.");
  }
  if (!r.raw && !r.simple) {
    return fail(SendErrorKind::InvalidParameter, "The message has no content.");
  }
  if (r.raw && r.raw->size() > r.max_message_bytes) {
    return fail(SendErrorKind::InvalidParameter,
                "Message length is more than " + std::to_string(r.max_message_bytes) +
                    " bytes long: '" + std::to_string(r.raw->size()) + "'.");
  }
  for (const auto& t : r.tags) {
    if (!is_valid_tag_part(t.name) || !is_valid_tag_part(t.value)) {
      return fail(SendErrorKind::InvalidParameter,
                  "Invalid tag '" + t.name + "'='" + t.value +
                      "': names and values may only contain ASCII letters, digits, underscores "
                      "(_) or dashes (-), and must be 1 to 256 characters long.");
    }
  }
  base::TimePoint now_tp = clock_.now();
  double now = epoch_seconds(now_tp);
  std::string id = make_message_id(now_tp);
  auto prepared = r.raw ? prepare_raw(r, id, now) : prepare_simple(r, id, now);
  if (!prepared) return base::unexpected(std::move(prepared.error()));
  Prepared& p = *prepared;
  if (p.raw.size() > r.max_message_bytes) {
    return fail(SendErrorKind::InvalidParameter,
                "Message length is more than " + std::to_string(r.max_message_bytes) +
                    " bytes long: '" + std::to_string(p.raw.size()) + "'.");
  }
  if (!domain::is_valid_email_address(p.source_address)) {
    return fail(SendErrorKind::MessageRejected, "Illegal address");
  }
  if (p.recipients.empty()) {
    return fail(SendErrorKind::InvalidParameter, "Missing final destination: no recipients.");
  }
  if (p.recipients.size() > kMaxRecipients) {
    return fail(SendErrorKind::InvalidParameter,
                "Recipient count exceeds " + std::to_string(kMaxRecipients) + ".");
  }
  for (auto& rcpt : p.recipients) {
    std::string bare = bare_address(rcpt);
    if (!domain::is_valid_email_address(bare)) {
      return fail(SendErrorKind::MessageRejected, "Illegal address");
    }
    rcpt = bare;
  }

  // Identities: sandbox check and the default configuration set (address over domain).
  std::string from_domain = domain_of(p.source_address);
  auto by_address = config_.get_identity(p.source_address);
  auto by_domain = config_.get_identity(from_domain);
  auto verified = [](const std::optional<domain::Identity>& i) {
    return i && i->status == domain::VerificationStatus::Success;
  };
  if (account_.sandbox && !verified(by_address) && !verified(by_domain)) {
    return fail(SendErrorKind::MessageRejected,
                "Email address is not verified. The following identities failed the check in "
                "region US-EAST-1: " +
                    p.source_address);
  }

  // Configuration set: the API parameter wins over the header; then the identity default.
  std::string set_name;
  if (r.configuration_set && !r.configuration_set->empty()) {
    set_name = *r.configuration_set;
  } else if (p.header_configuration_set && !p.header_configuration_set->empty()) {
    set_name = *p.header_configuration_set;
  } else if (by_address && by_address->default_configuration_set) {
    set_name = *by_address->default_configuration_set;
  } else if (by_domain && by_domain->default_configuration_set) {
    set_name = *by_domain->default_configuration_set;
  }
  if (!set_name.empty()) {
    auto set = config_.get_configuration_set(set_name);
    if (!set) {
      return fail(SendErrorKind::ConfigurationSetDoesNotExist,
                  "Configuration set <" + set_name + "> does not exist.", set_name);
    }
    if (!set->set.sending_enabled) {
      return fail(SendErrorKind::ConfigurationSetSendingPaused,
                  "Sending is paused for configuration set <" + set_name + ">.", set_name);
    }
  }

  AutoTagFacts facts{set_name,    from_domain, r.caller_identity,
                     r.source_ip, r.operation, r.source_tls_version};
  MailFacts mail;
  mail.timestamp = now;
  mail.source = p.source;
  mail.source_address = p.source_address;
  mail.message_id = id;
  mail.destination = p.recipients;
  mail.headers = std::move(p.original_headers);
  mail.common = std::move(p.common);
  mail.common.message_id = id;
  mail.tags = final_tags(facts, r.tags, p.header_tags);

  if (auto over = check_quota(quota_, p.recipients.size())) return base::unexpected(*over);

  domain::QueuedMessage q;
  q.message_id = id;
  q.configuration_set = set_name;
  q.recipients = std::move(p.recipients);
  q.mail = mail_json(mail);
  q.raw =
      instrumenter_ ? instrumenter_->instrument(id, set_name, std::move(p.raw)) : std::move(p.raw);
  q.created_at = now;
  q.has_virus = p.has_virus;
  q.tags_from_header = r.tags.empty() && !p.header_tags.empty();
  Accepted accepted;
  if (r.rendering_failure) {
    // Stored as finished: never delivered, one Rendering Failure event and no Send.
    q.finished = true;
    accepted.events.push_back(domain::NewEvent{
        "Rendering Failure", rendering_failure_record(q.mail, r.rendering_failure->template_name,
                                                      r.rendering_failure->error_message)});
  } else {
    accepted.events.push_back(domain::NewEvent{"Send", send_record(q.mail)});
  }
  accepted.message = std::move(q);
  accepted.now = now;
  return accepted;
}

}  // namespace mailtally::sending
