// Templated sends of both APIs (see ses_templates.hpp): wire documents become a
// sending::SendRequest plus a compiled template and its data; sending/templated_send.cpp renders
// and sends.
#include "sending/templated_send.hpp"
#include "services/doc.hpp"
#include "services/ses_send.hpp"
#include "services/ses_templates.hpp"

namespace mailtally::services {
namespace json = boost::json;
namespace {

using Fail = base::Unexpected<wire::ApiError>;
using sending::SendErrorKind;

constexpr std::size_t kMaxBulkDestinations = 50;

// Bulk: replacement tags over default tags of the same name.
std::vector<domain::MessageTag> merge_tags(std::vector<domain::MessageTag> defaults,
                                           const std::vector<domain::MessageTag>& replacement) {
  for (const auto& t : replacement) {
    std::erase_if(defaults, [&](const domain::MessageTag& d) { return d.name == t.name; });
  }
  defaults.insert(defaults.end(), replacement.begin(), replacement.end());
  return defaults;
}

sending::SendRequest base_request(const CallContext& ctx, std::string operation,
                                  std::size_t max_bytes) {
  sending::SendRequest r;
  r.operation = std::move(operation);
  r.max_message_bytes = max_bytes;
  r.caller_identity = ctx.caller.credential.name;
  r.source_ip = ctx.http.remote_address;
  return r;
}

// "arn:aws:ses:REGION:ACCOUNT:template/NAME" -> NAME (empty when not a template ARN).
std::string name_from_arn(std::string_view arn) {
  auto at = arn.find(":template/");
  return at == std::string_view::npos ? std::string() : std::string(arn.substr(at + 10));
}

// Finds and compiles the named template; the API's error when it does not exist.
base::Expected<sending::CompiledTemplate, wire::ApiError> load(domain::TemplateStore& store,
                                                               const std::string& name, bool v2) {
  auto t = store.get(name);
  if (!t) {
    std::string message = "Template " + name + " does not exist.";
    if (v2) return Fail{wire::model_error(wire::ses_v2_model(), "NotFoundException", message)};
    auto e = wire::model_error(wire::ses_v1_model(), "TemplateDoesNotExistException", message);
    e.fields["TemplateName"] = name;
    return Fail{e};
  }
  auto c = sending::compile_template(*t);
  if (!c) {
    if (v2) return Fail{wire::model_error(wire::ses_v2_model(), "BadRequestException", c.error())};
    auto e = wire::model_error(wire::ses_v1_model(), "InvalidTemplateException", c.error());
    e.fields["TemplateName"] = name;
    return Fail{e};
  }
  return std::move(*c);
}

// v2 Content.Template / DefaultContent.Template: by name, by ARN, or inline TemplateContent.
base::Expected<sending::CompiledTemplate, wire::ApiError> v2_template(domain::TemplateStore& store,
                                                                      const json::object& tpl) {
  if (const auto* content = doc::obj(tpl, "TemplateContent")) {
    domain::EmailTemplate t;
    t.name = doc::str(tpl, "TemplateName");
    t.subject = doc::opt_str(*content, "Subject");
    t.text = doc::opt_str(*content, "Text");
    t.html = doc::opt_str(*content, "Html");
    auto c = sending::compile_template(t);
    if (!c) {
      return Fail{wire::model_error(wire::ses_v2_model(), "BadRequestException",
                                    "Invalid template: " + c.error())};
    }
    return std::move(*c);
  }
  std::string name = doc::str(tpl, "TemplateName");
  if (name.empty()) name = name_from_arn(doc::str(tpl, "TemplateArn"));
  if (name.empty()) {
    return Fail{wire::model_error(wire::ses_v2_model(), "BadRequestException",
                                  "Template must have a TemplateName, a TemplateArn or "
                                  "TemplateContent.")};
  }
  return load(store, name, true);
}

// Errors that concern the whole bulk request rather than one destination.
bool request_level(SendErrorKind k) {
  return k == SendErrorKind::ConfigurationSetDoesNotExist ||
         k == SendErrorKind::ConfigurationSetSendingPaused ||
         k == SendErrorKind::AccountSendingPaused;
}

// A failed entry's status (the models' BulkEmailStatus enums).
std::string v1_status(SendErrorKind k) {
  switch (k) {
    case SendErrorKind::MessageRejected:
      return "MessageRejected";
    case SendErrorKind::MaxSendRateExceeded:
      return "AccountThrottled";
    case SendErrorKind::DailyQuotaExceeded:
      return "AccountDailyQuotaExceeded";
    case SendErrorKind::Internal:
      return "Failed";
    default:
      return "InvalidParameterValue";
  }
}
std::string v2_status(SendErrorKind k) {
  switch (k) {
    case SendErrorKind::MessageRejected:
      return "MESSAGE_REJECTED";
    case SendErrorKind::MaxSendRateExceeded:
      return "ACCOUNT_THROTTLED";
    case SendErrorKind::DailyQuotaExceeded:
      return "ACCOUNT_DAILY_QUOTA_EXCEEDED";
    case SendErrorKind::Internal:
      return "FAILED";
    default:
      return "INVALID_PARAMETER";
  }
}

struct BulkEntry {
  const json::object* destination = nullptr;
  std::vector<domain::MessageTag> tags;
  std::optional<std::string> data;  // the merged data; nullopt when not a JSON object
};

// Sends every entry; a request-level failure (found at the first entry, before anything was
// stored) fails the call.
base::Expected<json::array, wire::ApiError> send_bulk(sending::Sender& sender,
                                                      const sending::SendRequest& base,
                                                      const sending::CompiledTemplate& tpl,
                                                      const std::vector<BulkEntry>& entries,
                                                      bool v2) {
  json::array results;
  for (const auto& e : entries) {
    sending::SendRequest r = base;
    send_destination(e.destination, r);
    r.tags = e.tags;
    auto id =
        e.data
            ? sending::send_templated(sender, r, tpl, *e.data)
            : base::Expected<std::string, sending::SendError>(base::unexpected(sending::SendError{
                  SendErrorKind::InvalidParameter, "Template data must be a JSON object.", {}}));
    if (!id && request_level(id.error().kind)) {
      return Fail{v2 ? send_error_v2(id.error()) : send_error_v1(id.error())};
    }
    json::object status;
    if (id) {
      status["Status"] = v2 ? "SUCCESS" : "Success";
      status["MessageId"] = *id;
    } else {
      status["Status"] = v2 ? v2_status(id.error().kind) : v1_status(id.error().kind);
      status["Error"] = id.error().message;
    }
    results.push_back(std::move(status));
  }
  return results;
}

std::optional<wire::ApiError> too_many(std::size_t n, bool v2) {
  if (n >= 1 && n <= kMaxBulkDestinations) return std::nullopt;
  std::string message = "The number of destinations must be between 1 and " +
                        std::to_string(kMaxBulkDestinations) + "; got " + std::to_string(n) + ".";
  if (v2) return wire::model_error(wire::ses_v2_model(), "BadRequestException", message);
  return wire::generic_error(400, "InvalidParameterValue", message);
}

}  // namespace

namespace templates_detail {

void register_sends(OperationTable& t, domain::TemplateStore& store, sending::Sender& sender) {
  const wire::Service& v1 = wire::ses_v1_model();
  const wire::Service& v2 = wire::ses_v2_model();

  t.add(v1, "SendTemplatedEmail",
        [&store, &sender](const CallContext& ctx, const json::object& in) -> Output {
          auto r = base_request(ctx, "SendTemplatedEmail", sending::kMaxMessageBytesV1);
          r.source = doc::opt_str(in, "Source");
          send_destination(doc::obj(in, "Destination"), r);
          r.reply_to = send_strings(in, "ReplyToAddresses");
          r.configuration_set = doc::opt_str(in, "ConfigurationSetName");
          r.tags = send_tags(in, "Tags");
          std::string name = doc::str(in, "Template");
          if (name.empty()) name = name_from_arn(doc::str(in, "TemplateArn"));
          auto tpl = load(store, name, false);
          if (!tpl) return Fail{tpl.error()};
          auto id = sending::send_templated(sender, r, *tpl, doc::str(in, "TemplateData"));
          if (!id) return Fail{send_error_v1(id.error())};
          return json::object{{"MessageId", *id}};
        });

  t.add(v1, "SendBulkTemplatedEmail",
        [&store, &sender](const CallContext& ctx, const json::object& in) -> Output {
          auto r = base_request(ctx, "SendBulkTemplatedEmail", sending::kMaxMessageBytesV1);
          r.source = doc::opt_str(in, "Source");
          r.reply_to = send_strings(in, "ReplyToAddresses");
          r.configuration_set = doc::opt_str(in, "ConfigurationSetName");
          const auto* dests = doc::arr(in, "Destinations");
          if (auto e = too_many(dests ? dests->size() : 0, false)) return Fail{*e};
          std::string name = doc::str(in, "Template");
          if (name.empty()) name = name_from_arn(doc::str(in, "TemplateArn"));
          auto tpl = load(store, name, false);
          if (!tpl) return Fail{tpl.error()};
          std::string defaults = doc::str(in, "DefaultTemplateData");
          if (!sending::merge_template_data(defaults, "")) {
            return Fail{wire::generic_error(400, "InvalidParameterValue",
                                            "DefaultTemplateData must be a JSON object.")};
          }
          auto default_tags = send_tags(in, "DefaultTags");
          std::vector<BulkEntry> entries;
          for (const auto& d : *dests) {
            if (!d.is_object()) continue;
            const auto& o = d.get_object();
            entries.push_back(
                {doc::obj(o, "Destination"),
                 merge_tags(default_tags, send_tags(o, "ReplacementTags")),
                 sending::merge_template_data(defaults, doc::str(o, "ReplacementTemplateData"))});
          }
          auto results = send_bulk(sender, r, *tpl, entries, false);
          if (!results) return Fail{results.error()};
          return json::object{{"Status", std::move(*results)}};
        });

  t.add(v2, "SendBulkEmail",
        [&store, &sender](const CallContext& ctx, const json::object& in) -> Output {
          auto r = base_request(ctx, "SendBulkEmail", sending::kMaxMessageBytesV2);
          r.source = doc::opt_str(in, "FromEmailAddress");
          r.reply_to = send_strings(in, "ReplyToAddresses");
          r.configuration_set = doc::opt_str(in, "ConfigurationSetName");
          const auto* list = doc::arr(in, "BulkEmailEntries");
          if (auto e = too_many(list ? list->size() : 0, true)) return Fail{*e};
          const auto* content = doc::obj(in, "DefaultContent");
          const auto* tpl_doc = content ? doc::obj(*content, "Template") : nullptr;
          if (!tpl_doc) {
            return Fail{wire::model_error(wire::ses_v2_model(), "BadRequestException",
                                          "DefaultContent must contain a Template.")};
          }
          auto tpl = v2_template(store, *tpl_doc);
          if (!tpl) return Fail{tpl.error()};
          std::string defaults = doc::str(*tpl_doc, "TemplateData");
          if (!sending::merge_template_data(defaults, "")) {
            return Fail{wire::model_error(wire::ses_v2_model(), "BadRequestException",
                                          "TemplateData must be a JSON object.")};
          }
          auto default_tags = send_tags(in, "DefaultEmailTags");
          std::vector<BulkEntry> entries;
          for (const auto& d : *list) {
            if (!d.is_object()) continue;
            const auto& o = d.get_object();
            std::string replacement;
            if (const auto* rc = doc::obj(o, "ReplacementEmailContent")) {
              if (const auto* rt = doc::obj(*rc, "ReplacementTemplate")) {
                replacement = doc::str(*rt, "ReplacementTemplateData");
              }
            }
            entries.push_back({doc::obj(o, "Destination"),
                               merge_tags(default_tags, send_tags(o, "ReplacementTags")),
                               sending::merge_template_data(defaults, replacement)});
          }
          auto results = send_bulk(sender, r, *tpl, entries, true);
          if (!results) return Fail{results.error()};
          return json::object{{"BulkEmailEntryResults", std::move(*results)}};
        });

  // v2 SendEmail: Content.Template here; Simple and Raw stay with the registered (async)
  // handler, which must be registered first.
  const AsyncOperationHandler* existing = t.find_async(v2, "SendEmail");
  AsyncOperationHandler simple_or_raw = existing ? *existing : AsyncOperationHandler();
  t.add_async(v2, "SendEmail",
              [&store, &sender, simple_or_raw](const CallContext& ctx, const json::object& in,
                                               Reply reply) {
                const auto* c = doc::obj(in, "Content");
                const json::object* tpl_doc = c ? doc::obj(*c, "Template") : nullptr;
                bool others = c && (doc::obj(*c, "Simple") || doc::obj(*c, "Raw"));
                if (!tpl_doc || others) {
                  if (simple_or_raw) return simple_or_raw(ctx, in, std::move(reply));
                  return reply(Fail{wire::model_error(wire::ses_v2_model(), "BadRequestException",
                                                      "Content must contain a Template.")});
                }
                auto r = base_request(ctx, "SendEmail", sending::kMaxMessageBytesV2);
                r.source = doc::opt_str(in, "FromEmailAddress");
                send_destination(doc::obj(in, "Destination"), r);
                r.reply_to = send_strings(in, "ReplyToAddresses");
                r.configuration_set = doc::opt_str(in, "ConfigurationSetName");
                r.tags = send_tags(in, "EmailTags");
                auto tpl = v2_template(store, *tpl_doc);
                if (!tpl) return reply(Fail{tpl.error()});
                auto id =
                    sending::send_templated(sender, r, *tpl, doc::str(*tpl_doc, "TemplateData"));
                if (!id) return reply(Fail{send_error_v2(id.error())});
                reply(json::object{{"MessageId", *id}});
              });
}

}  // namespace templates_detail

}  // namespace mailtally::services
