#include "destinations/event_messages.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "base/crypto.hpp"

namespace mailtally::destinations {
namespace json = boost::json;
namespace {

constexpr std::string_view kAccountId = "123456789012";  // as sending/event_record.hpp

std::string region_of_arn(std::string_view arn) {
  // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
  std::size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return "us-east-1";
    ++pos;
  }
  auto end = arn.find(':', pos);
  std::string_view region = arn.substr(pos, end == std::string_view::npos ? 0 : end - pos);
  return region.empty() ? std::string("us-east-1") : std::string(region);
}

// `s` with every byte sequence that is not UTF-8 replaced by U+FFFD, so that the JSON we write
// around it parses everywhere (a record may carry raw 8-bit header bytes).
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    bool ok = n != 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (ok && n > 1) {
      // No overlong forms, surrogates or code points above U+10FFFF.
      std::uint32_t cp = c & (0x7F >> n);
      for (std::size_t k = 1; k < n; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[n] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

std::string iso_millis(double epoch_seconds) {
  double whole = std::floor(epoch_seconds);
  long long ms = std::llround((epoch_seconds - whole) * 1000.0);
  auto t = static_cast<std::time_t>(whole);
  if (ms >= 1000) {
    ++t;
    ms -= 1000;
  }
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string stable_uuid(std::string_view seed) {
  std::string h = base::hex(base::sha256(seed));
  h[12] = '5';  // name-based form
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

std::string sns_string_to_sign(const SnsEnvelope& e) {
  std::string s;
  auto add = [&s](std::string_view name, std::string_view value) {
    s.append(name).append("\n").append(value).append("\n");
  };
  add("Message", valid_utf8(e.message));  // as sns_envelope_json writes it
  add("MessageId", e.message_id);
  if (e.type == "SubscriptionConfirmation") {
    add("SubscribeURL", e.subscribe_url);
    add("Timestamp", iso_millis(e.timestamp));
    add("Token", e.token);
  } else {
    add("Timestamp", iso_millis(e.timestamp));
  }
  add("TopicArn", valid_utf8(e.topic_arn));
  add("Type", e.type);
  return s;
}

std::string sns_envelope_json(const SnsEnvelope& e, std::string_view signature_version,
                              std::string_view signature) {
  auto text = [](std::string_view v) { return json::string(valid_utf8(v)); };
  json::object o;
  o["Type"] = e.type;
  o["MessageId"] = e.message_id;
  if (e.type == "SubscriptionConfirmation") o["Token"] = e.token;
  o["TopicArn"] = text(e.topic_arn);
  o["Message"] = text(e.message);
  if (e.type == "SubscriptionConfirmation") o["SubscribeURL"] = e.subscribe_url;
  o["Timestamp"] = iso_millis(e.timestamp);
  o["SignatureVersion"] = signature_version;
  o["Signature"] = signature;
  o["SigningCertURL"] = e.signing_cert_url;
  if (e.type == "Notification") o["UnsubscribeURL"] = e.unsubscribe_url;
  return json::serialize(o);
}

std::optional<std::string_view> eventbridge_detail_type(std::string_view event_type) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"Send", "Email Sent"},
      {"Delivery", "Email Delivered"},
      {"Bounce", "Email Bounced"},
      {"Complaint", "Email Complaint Received"},
      {"Reject", "Email Rejected"},
      {"Open", "Email Opened"},
      {"Click", "Email Clicked"},
      {"Rendering Failure", "Email Rendering Failed"},
      {"DeliveryDelay", "Email Delivery Delayed"},
      {"Subscription", "Email Subscribed"},
  };
  for (const auto& [type, detail] : kTypes) {
    if (type == event_type) return detail;
  }
  return std::nullopt;
}

std::optional<std::string> eventbridge_event_json(std::string_view record,
                                                  std::string_view event_type,
                                                  std::string_view event_bus_arn,
                                                  std::string_view id, double time) {
  auto detail_type = eventbridge_detail_type(event_type);
  if (!detail_type) return std::nullopt;
  boost::system::error_code ec;
  json::value detail = json::parse(valid_utf8(record), ec);
  if (ec || !detail.is_object()) return std::nullopt;
  std::string when = iso_millis(time);
  when = when.substr(0, 19) + "Z";  // EventBridge times have second precision
  json::object o;
  o["version"] = "0";
  o["id"] = id;
  o["detail-type"] = *detail_type;
  o["source"] = "aws.ses";
  o["account"] = kAccountId;
  o["time"] = when;
  o["region"] = valid_utf8(region_of_arn(event_bus_arn));
  o["resources"] = json::array();
  o["detail"] = std::move(detail);
  return json::serialize(o);
}

std::optional<std::string> firehose_stream_name(std::string_view arn) {
  auto slash = arn.find(":deliverystream/");
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view name = arn.substr(slash + 16);
  if (name.empty() || name.size() > 64) return std::nullopt;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return std::nullopt;
  }
  if (name == "." || name == "..") return std::nullopt;
  return std::string(name);
}

}  // namespace mailtally::destinations
