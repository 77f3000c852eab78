#include "domain/rules.hpp"

#include <algorithm>
#include <array>
#include <set>

namespace mailtally::domain {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool all_of(std::string_view s, std::string_view extra) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return is_alnum(c) || extra.find(c) != std::string_view::npos;
  });
}

std::string quoted(std::string_view s) { return "<" + std::string(s) + ">"; }

Subject subject_of(const EventDestination& d) {
  if (d.cloudwatch) return Subject::CloudWatchDestination;
  if (d.sns) return Subject::SnsDestination;
  if (d.firehose) return Subject::FirehoseDestination;
  if (d.eventbridge) return Subject::EventBridgeDestination;
  if (d.pinpoint) return Subject::PinpointDestination;
  return Subject::EventDestination;
}

Status check_cloudwatch(std::string_view set, const std::string& dest,
                        const CloudWatchDestination& cw) {
  auto bad = [&](std::string msg) {
    return fail(ErrorKind::InvalidParameter, Subject::CloudWatchDestination, std::move(msg),
                std::string(set), dest);
  };
  if (cw.dimensions.empty()) {
    return bad("CloudWatch destination " + quoted(dest) +
               " must have at least one dimension configuration.");
  }
  if (cw.dimensions.size() > kMaxDimensionsPerDestination) {
    return bad("CloudWatch destination " + quoted(dest) + " has " +
               std::to_string(cw.dimensions.size()) + " dimensions; at most " +
               std::to_string(kMaxDimensionsPerDestination) + " are allowed.");
  }
  std::set<std::string> seen;
  for (const auto& dim : cw.dimensions) {
    if (dim.name.empty() || dim.name.size() > kMaxDimensionNameLength || !all_of(dim.name, "_-:")) {
      return bad("Dimension name " + quoted(dim.name) +
                 " is invalid: it must contain only ASCII letters (a-z, A-Z), numbers (0-9), "
                 "underscores (_), dashes (-) or colons (:), and be 1 to 256 characters long.");
    }
    if (dim.default_value.empty() || dim.default_value.size() > kMaxDimensionValueLength ||
        !all_of(dim.default_value, "_-@.")) {
      return bad("Default dimension value " + quoted(dim.default_value) + " of dimension " +
                 quoted(dim.name) +
                 " is invalid: it must contain only ASCII letters (a-z, A-Z), numbers (0-9), "
                 "underscores (_), dashes (-), at signs (@) or periods (.), and be 1 to 256 "
                 "characters long.");
    }
    if (dim.source == DimensionValueSource::EmailHeader &&
        is_forbidden_header_dimension(dim.name)) {
      return bad("Dimension name " + quoted(dim.name) +
                 " cannot be used with the email header value source: Received, To, From, "
                 "DKIM-Signature, CC, message-id and Return-Path are not allowed.");
    }
    if (!seen.insert(dim.name).second) {
      return bad("Dimension name " + quoted(dim.name) + " appears more than once in destination " +
                 quoted(dest) + ".");
    }
  }
  return base::Ok{};
}

}  // namespace

Status check_configuration_set_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || !all_of(name, "_-")) {
    return fail(ErrorKind::InvalidParameter, Subject::ConfigurationSet,
                "Configuration set name " + quoted(name) +
                    " is invalid: it must contain only ASCII letters (a-z, A-Z), numbers (0-9), "
                    "underscores (_) or dashes (-), and be 1 to 64 characters long.",
                std::string(name));
  }
  return base::Ok{};
}

Status check_event_destination_name(std::string_view set, std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || !all_of(name, "_-")) {
    return fail(ErrorKind::InvalidParameter, Subject::EventDestination,
                "Event destination name " + quoted(name) +
                    " is invalid: it must contain only ASCII letters (a-z, A-Z), numbers (0-9), "
                    "underscores (_) or dashes (-), and be 1 to 64 characters long.",
                std::string(set), std::string(name));
  }
  return base::Ok{};
}

Status check_event_destination(std::string_view set, const EventDestination& d) {
  const Subject subject = subject_of(d);
  auto bad = [&](Subject s, std::string msg) {
    return fail(ErrorKind::InvalidParameter, s, std::move(msg), std::string(set), d.name);
  };
  if (auto s = check_event_destination_name(set, d.name); !s) {
    Error e = s.error();
    if (subject != Subject::EventDestination) e.subject = subject;
    return base::unexpected(std::move(e));
  }
  int targets = d.cloudwatch.has_value() + d.sns.has_value() + d.firehose.has_value() +
                d.eventbridge.has_value() + d.pinpoint.has_value();
  if (targets != 1) {
    return bad(Subject::EventDestination,
               "Event destination " + quoted(d.name) + " names " + std::to_string(targets) +
                   " destinations; you must provide one, and only one, destination "
                   "(CloudWatch, SNS, Kinesis Firehose, EventBridge or Pinpoint).");
  }
  if (d.matching_event_types.empty()) {
    return bad(subject, "Event destination " + quoted(d.name) +
                            " must match at least one event type (MatchingEventTypes).");
  }
  if (d.cloudwatch) return check_cloudwatch(set, d.name, *d.cloudwatch);
  if (d.sns && !is_valid_arn(d.sns->topic_arn, "sns")) {
    return bad(subject, "SNS topic ARN " + quoted(d.sns->topic_arn) + " is not a valid SNS ARN.");
  }
  if (d.firehose) {
    if (!is_valid_arn(d.firehose->delivery_stream_arn, "firehose")) {
      return bad(subject, "Delivery stream ARN " + quoted(d.firehose->delivery_stream_arn) +
                              " is not a valid Kinesis Firehose ARN.");
    }
    if (!is_valid_arn(d.firehose->iam_role_arn, "iam")) {
      return bad(subject,
                 "IAM role ARN " + quoted(d.firehose->iam_role_arn) + " is not a valid IAM ARN.");
    }
  }
  if (d.eventbridge && !is_valid_arn(d.eventbridge->event_bus_arn, "events")) {
    return bad(subject, "Event bus ARN " + quoted(d.eventbridge->event_bus_arn) +
                            " is not a valid EventBridge ARN.");
  }
  if (d.pinpoint && !is_valid_arn(d.pinpoint->application_arn, "mobiletargeting")) {
    return bad(subject, "Pinpoint application ARN " + quoted(d.pinpoint->application_arn) +
                            " is not a valid Pinpoint ARN.");
  }
  return base::Ok{};
}

bool is_forbidden_header_dimension(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kForbidden = {
      "Received", "To", "From", "DKIM-Signature", "CC", "message-id", "Return-Path"};
  return std::any_of(kForbidden.begin(), kForbidden.end(), [&](std::string_view f) {
    return f.size() == name.size() &&
           std::equal(f.begin(), f.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  });
}

bool is_valid_arn(std::string_view arn, std::string_view service) {
  // arn:partition:service:region:account-id:resource (resource may contain ':' and '/').
  std::array<std::string_view, 5> parts;
  std::string_view rest = arn;
  for (auto& p : parts) {
    auto c = rest.find(':');
    if (c == std::string_view::npos) return false;
    p = rest.substr(0, c);
    rest = rest.substr(c + 1);
  }
  if (parts[0] != "arn" || rest.empty() || parts[2] != service) return false;
  if (parts[1].empty() || !all_of(parts[1], "-")) return false;
  if (!all_of(parts[3], "-") || !all_of(parts[4], "")) return false;
  if (service != "iam" && parts[3].empty()) return false;
  if (parts[4].size() != 12) return false;
  return std::all_of(rest.begin(), rest.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

bool is_valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253 || domain.find('.') == std::string_view::npos) {
    return false;
  }
  std::size_t start = 0;
  while (start <= domain.size()) {
    auto dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    std::string_view label = domain.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || !all_of(label, "-_") || label.front() == '-' ||
        label.back() == '-') {
      return false;
    }
    start = dot + 1;
  }
  return true;
}

bool is_valid_email_address(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || address.size() > 320) return false;
  std::string_view local = address.substr(0, at);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return false;
  }
  if (!all_of(local, ".!#$%&'*+/=?^_`{|}~-")) return false;
  return is_valid_domain(address.substr(at + 1));
}

std::string_view event_type_name(EventType t) {
  static constexpr std::array<std::string_view, kEventTypeCount> kNames = {
      "Send",          "Reject",      "Bounce", "Complaint",
      "Delivery",      "Open",        "Click",  "Rendering Failure",
      "DeliveryDelay", "Subscription"};
  return kNames[static_cast<std::size_t>(t)];
}

}  // namespace mailtally::domain
