#include "services/ses_send.hpp"

#include "services/doc.hpp"

namespace mailtally::services {
namespace json = boost::json;

std::vector<std::string> send_strings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* a = doc::arr(o, key)) {
    for (const auto& v : *a) {
      if (v.is_string()) out.emplace_back(v.get_string());
    }
  }
  return out;
}

void send_destination(const json::object* d, sending::SendRequest& r) {
  r.to.clear();
  r.cc.clear();
  r.bcc.clear();
  if (!d) return;
  r.to = send_strings(*d, "ToAddresses");
  r.cc = send_strings(*d, "CcAddresses");
  r.bcc = send_strings(*d, "BccAddresses");
}

std::vector<domain::MessageTag> send_tags(const json::object& in, std::string_view key) {
  std::vector<domain::MessageTag> out;
  if (const auto* a = doc::arr(in, key)) {
    for (const auto& v : *a) {
      if (!v.is_object()) continue;
      out.push_back({doc::str(v.get_object(), "Name"), doc::str(v.get_object(), "Value"), false});
    }
  }
  return out;
}

namespace {

using sending::SendErrorKind;

std::optional<sending::TextPart> content(const json::object* o) {
  if (!o) return std::nullopt;
  sending::TextPart p;
  p.data = doc::str(*o, "Data");
  if (auto cs = doc::opt_str(*o, "Charset"); cs && !cs->empty()) p.charset = *cs;
  return p;
}

sending::SimpleBody simple_body(const json::object& message) {
  sending::SimpleBody b;
  b.subject = content(doc::obj(message, "Subject")).value_or(sending::TextPart{});
  if (const auto* body = doc::obj(message, "Body")) {
    b.text = content(doc::obj(*body, "Text"));
    b.html = content(doc::obj(*body, "Html"));
  }
  if (const auto* hs = doc::arr(message, "Headers")) {
    for (const auto& h : *hs) {
      if (!h.is_object()) continue;
      b.headers.emplace_back(doc::str(h.get_object(), "Name"), doc::str(h.get_object(), "Value"));
    }
  }
  return b;
}

void caller(const CallContext& ctx, std::string operation, sending::SendRequest& r) {
  r.operation = std::move(operation);
  r.caller_identity = ctx.caller.credential.name;
  r.source_ip = ctx.http.remote_address;
}

wire::ApiError v1_error(const sending::SendError& e) {
  const wire::Service& m = wire::ses_v1_model();
  wire::ApiError a;
  switch (e.kind) {
    case SendErrorKind::MessageRejected:
      return wire::model_error(m, "MessageRejected", e.message);
    case SendErrorKind::InvalidParameter:
      return wire::generic_error(400, "InvalidParameterValue", e.message);
    case SendErrorKind::ConfigurationSetDoesNotExist:
      a = wire::model_error(m, "ConfigurationSetDoesNotExistException", e.message);
      a.fields["ConfigurationSetName"] = e.configuration_set;
      return a;
    case SendErrorKind::ConfigurationSetSendingPaused:
      a = wire::model_error(m, "ConfigurationSetSendingPausedException", e.message);
      a.fields["ConfigurationSetName"] = e.configuration_set;
      return a;
    case SendErrorKind::AccountSendingPaused:
      return wire::model_error(m, "AccountSendingPausedException", e.message);
    case SendErrorKind::Internal:
      break;
    case SendErrorKind::MaxSendRateExceeded:
    case SendErrorKind::DailyQuotaExceeded:
      return wire::generic_error(400, "Throttling", e.message);
  }
  return wire::generic_error(500, "InternalFailure", e.message, false);
}

wire::ApiError v2_error(const sending::SendError& e) {
  const wire::Service& m = wire::ses_v2_model();
  switch (e.kind) {
    case SendErrorKind::MessageRejected:
      return wire::model_error(m, "MessageRejected", e.message);
    case SendErrorKind::InvalidParameter:
      return wire::model_error(m, "BadRequestException", e.message);
    case SendErrorKind::ConfigurationSetDoesNotExist:
      return wire::model_error(m, "NotFoundException", e.message);
    case SendErrorKind::ConfigurationSetSendingPaused:
    case SendErrorKind::AccountSendingPaused:
      return wire::model_error(m, "SendingPausedException", e.message);
    case SendErrorKind::Internal:
      break;
    case SendErrorKind::MaxSendRateExceeded:
      return wire::model_error(m, "TooManyRequestsException", e.message);
    case SendErrorKind::DailyQuotaExceeded:
      return wire::model_error(m, "LimitExceededException", e.message);
  }
  return wire::generic_error(500, "InternalFailure", e.message, false);
}

// Hands the send over and replies once the message is durable (Sender::send_async).
template <class Map>
void run(sending::Sender& sender, const sending::SendRequest& r, Map map_error, Reply reply) {
  sender.send_async(
      r, [map_error, reply = std::move(reply)](base::Expected<std::string, sending::SendError> id) {
        if (!id) {
          reply(base::unexpected(map_error(id.error())));
        } else {
          reply(json::object{{"MessageId", std::move(*id)}});
        }
      });
}

}  // namespace

wire::ApiError send_error_v1(const sending::SendError& e) { return v1_error(e); }
wire::ApiError send_error_v2(const sending::SendError& e) { return v2_error(e); }

void register_ses_send(OperationTable& t, sending::Sender& sender) {
  const wire::Service& v1 = wire::ses_v1_model();
  const wire::Service& v2 = wire::ses_v2_model();

  t.add_async(v1, "SendEmail",
              [&sender](const CallContext& ctx, const json::object& in, Reply reply) {
                sending::SendRequest r;
                caller(ctx, "SendEmail", r);
                r.max_message_bytes = sending::kMaxMessageBytesV1;
                r.source = doc::opt_str(in, "Source");
                send_destination(doc::obj(in, "Destination"), r);
                r.reply_to = send_strings(in, "ReplyToAddresses");
                if (const auto* m = doc::obj(in, "Message")) r.simple = simple_body(*m);
                r.configuration_set = doc::opt_str(in, "ConfigurationSetName");
                r.tags = send_tags(in, "Tags");
                run(sender, r, v1_error, std::move(reply));
              });

  t.add_async(v1, "SendRawEmail",
              [&sender](const CallContext& ctx, const json::object& in, Reply reply) {
                sending::SendRequest r;
                caller(ctx, "SendRawEmail", r);
                r.max_message_bytes = sending::kMaxMessageBytesV1;
                r.source = doc::opt_str(in, "Source");
                r.to = send_strings(in, "Destinations");
                if (const auto* m = doc::obj(in, "RawMessage")) r.raw = doc::str(*m, "Data");
                if (!r.raw) r.raw = std::string();
                r.configuration_set = doc::opt_str(in, "ConfigurationSetName");
                r.tags = send_tags(in, "Tags");
                run(sender, r, v1_error, std::move(reply));
              });

  t.add_async(
      v2, "SendEmail", [&sender, &v2](const CallContext& ctx, const json::object& in, Reply reply) {
        sending::SendRequest r;
        caller(ctx, "SendEmail", r);
        r.max_message_bytes = sending::kMaxMessageBytesV2;
        r.source = doc::opt_str(in, "FromEmailAddress");
        send_destination(doc::obj(in, "Destination"), r);
        r.reply_to = send_strings(in, "ReplyToAddresses");
        r.configuration_set = doc::opt_str(in, "ConfigurationSetName");
        r.tags = send_tags(in, "EmailTags");
        const auto* c = doc::obj(in, "Content");
        const json::object* simple = c ? doc::obj(*c, "Simple") : nullptr;
        const json::object* raw = c ? doc::obj(*c, "Raw") : nullptr;
        const json::object* templ = c ? doc::obj(*c, "Template") : nullptr;
        int kinds = (simple != nullptr) + (raw != nullptr) + (templ != nullptr);
        if (kinds != 1) {
          return reply(base::unexpected(
              wire::model_error(v2, "BadRequestException",
                                "Content must contain exactly one of Simple, Raw or Template.")));
        }
        if (templ) {
          return reply(base::unexpected(wire::generic_error(
              501, "NotImplemented", "SendEmail with Content.Template is not implemented yet.")));
        }
        if (simple) {
          r.simple = simple_body(*simple);
        } else {
          r.raw = doc::str(*raw, "Data");
          // v2 Raw: the Destination, when given, is the envelope.
          r.to.insert(r.to.end(), r.cc.begin(), r.cc.end());
          r.to.insert(r.to.end(), r.bcc.begin(), r.bcc.end());
          r.cc.clear();
          r.bcc.clear();
        }
        run(sender, r, v2_error, std::move(reply));
      });
}

}  // namespace mailtally::services
