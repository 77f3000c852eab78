#include "storage/json_codec.hpp"

#include <array>
#include <boost/json.hpp>
#include <stdexcept>

namespace mailtally::storage {

namespace json = boost::json;
using namespace domain;

namespace {

// ---- enum names (index = enum value) ----

constexpr std::array<std::string_view, kEventTypeCount> kEventTypes = {
    "Send", "Reject", "Bounce",           "Complaint",     "Delivery",
    "Open", "Click",  "RenderingFailure", "DeliveryDelay", "Subscription"};
constexpr std::array<std::string_view, 3> kDimensionSources = {"MessageTag", "EmailHeader",
                                                               "LinkTag"};
constexpr std::array<std::string_view, 2> kTlsPolicies = {"Optional", "Require"};
constexpr std::array<std::string_view, 2> kIdentityTypes = {"EmailAddress", "Domain"};
constexpr std::array<std::string_view, 5> kStatuses = {"Pending", "Success", "Failed",
                                                       "TemporaryFailure", "NotStarted"};

template <class E, std::size_t N>
std::string_view name_of(E value, const std::array<std::string_view, N>& names) {
  auto i = static_cast<std::size_t>(value);
  if (i >= N) throw std::invalid_argument("sqlite store: enum value out of range");
  return names[i];
}

template <class E, std::size_t N>
E parse_name(std::string_view name, const std::array<std::string_view, N>& names,
             const char* what) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  throw std::runtime_error("sqlite store: unknown " + std::string(what) + " '" + std::string(name) +
                           "' in the database");
}

// ---- JSON helpers ----

json::string_view jsv(std::string_view s) { return {s.data(), s.size()}; }
std::string_view sv(const json::value& v) {
  const json::string& s = v.as_string();
  return {s.data(), s.size()};
}
std::string str(const json::value& v) { return std::string(sv(v)); }

std::optional<std::string> opt_str(const json::object& o, std::string_view key) {
  if (const json::value* v = o.if_contains(jsv(key))) return str(*v);
  return std::nullopt;
}
void put_opt(json::object& o, std::string_view key, const std::optional<std::string>& v) {
  if (v) o[jsv(key)] = jsv(*v);
}

json::array tags_to_json(const std::vector<ResourceTag>& tags) {
  json::array a;
  a.reserve(tags.size());
  for (const ResourceTag& t : tags)
    a.push_back(json::object{{"key", jsv(t.key)}, {"value", jsv(t.value)}});
  return a;
}
std::vector<ResourceTag> tags_from_json(const json::value& v) {
  std::vector<ResourceTag> tags;
  const json::array& a = v.as_array();
  tags.reserve(a.size());
  for (const json::value& t : a) {
    const json::object& o = t.as_object();
    tags.push_back({str(o.at("key")), str(o.at("value"))});
  }
  return tags;
}

// Parses `text` (an object) and hands it to `read`; wraps every failure with `what`. A small
// stack arena serves most records without heap allocation.
template <class Read>
void with_parsed(std::string_view text, const char* what, Read read) {
  unsigned char arena[4096];
  json::monotonic_resource mr(arena, sizeof arena);
  json::parse_options opts;
  opts.allow_invalid_utf8 = true;  // domain strings are bytes; never reject what we wrote
  try {
    json::value v = json::parse(jsv(text), &mr, opts);
    read(v.as_object());
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("sqlite store: corrupt ") + what +
                             " in the database: " + e.what());
  }
}

}  // namespace

// ---- configuration set ----

std::string encode_set_options(const ConfigurationSet& set) {
  json::object o;
  put_opt(o, "custom_redirect_domain", set.custom_redirect_domain);
  o["tls_policy"] = jsv(name_of(set.tls_policy, kTlsPolicies));
  put_opt(o, "sending_pool_name", set.sending_pool_name);
  o["reputation_metrics_enabled"] = set.reputation_metrics_enabled;
  o["sending_enabled"] = set.sending_enabled;
  if (set.suppressed_reasons) {
    json::array a;
    for (const std::string& r : *set.suppressed_reasons) a.push_back(jsv(r));
    o["suppressed_reasons"] = std::move(a);
  }
  put_opt(o, "vdm_engagement_metrics", set.vdm_engagement_metrics);
  put_opt(o, "vdm_optimized_shared_delivery", set.vdm_optimized_shared_delivery);
  o["tags"] = tags_to_json(set.tags);
  return json::serialize(o);
}

void decode_set_options(std::string_view text, ConfigurationSet& set) {
  with_parsed(text, "configuration set record", [&](const json::object& o) {
    set.custom_redirect_domain = opt_str(o, "custom_redirect_domain");
    set.tls_policy = parse_name<TlsPolicy>(sv(o.at("tls_policy")), kTlsPolicies, "TLS policy");
    set.sending_pool_name = opt_str(o, "sending_pool_name");
    set.reputation_metrics_enabled = o.at("reputation_metrics_enabled").as_bool();
    set.sending_enabled = o.at("sending_enabled").as_bool();
    set.suppressed_reasons.reset();
    if (const json::value* v = o.if_contains("suppressed_reasons")) {
      auto& reasons = set.suppressed_reasons.emplace();
      for (const json::value& r : v->as_array()) reasons.push_back(str(r));
    }
    set.vdm_engagement_metrics = opt_str(o, "vdm_engagement_metrics");
    set.vdm_optimized_shared_delivery = opt_str(o, "vdm_optimized_shared_delivery");
    set.tags = tags_from_json(o.at("tags"));
  });
}

// ---- event destination ----

std::string encode_destination(const EventDestination& d) {
  json::object o;
  o["enabled"] = d.enabled;
  json::array types;
  for (EventType t : d.matching_event_types) types.push_back(jsv(name_of(t, kEventTypes)));
  o["matching_event_types"] = std::move(types);
  if (d.cloudwatch) {
    json::array dims;
    for (const DimensionConfiguration& c : d.cloudwatch->dimensions) {
      dims.push_back(json::object{{"name", jsv(c.name)},
                                  {"source", jsv(name_of(c.source, kDimensionSources))},
                                  {"default_value", jsv(c.default_value)}});
    }
    o["cloudwatch"] = json::object{{"dimensions", std::move(dims)}};
  }
  if (d.sns) o["sns"] = json::object{{"topic_arn", jsv(d.sns->topic_arn)}};
  if (d.firehose) {
    o["firehose"] = json::object{{"iam_role_arn", jsv(d.firehose->iam_role_arn)},
                                 {"delivery_stream_arn", jsv(d.firehose->delivery_stream_arn)}};
  }
  if (d.eventbridge)
    o["eventbridge"] = json::object{{"event_bus_arn", jsv(d.eventbridge->event_bus_arn)}};
  if (d.pinpoint)
    o["pinpoint"] = json::object{{"application_arn", jsv(d.pinpoint->application_arn)}};
  return json::serialize(o);
}

EventDestination decode_destination(std::string name, std::string_view text) {
  EventDestination d;
  d.name = std::move(name);
  with_parsed(text, "event destination", [&](const json::object& o) {
    d.enabled = o.at("enabled").as_bool();
    for (const json::value& t : o.at("matching_event_types").as_array()) {
      d.matching_event_types.push_back(parse_name<EventType>(sv(t), kEventTypes, "event type"));
    }
    if (const json::value* v = o.if_contains("cloudwatch")) {
      auto& cw = d.cloudwatch.emplace();
      for (const json::value& c : v->as_object().at("dimensions").as_array()) {
        const json::object& dim = c.as_object();
        cw.dimensions.push_back(
            {str(dim.at("name")),
             parse_name<DimensionValueSource>(sv(dim.at("source")), kDimensionSources,
                                              "dimension value source"),
             str(dim.at("default_value"))});
      }
    }
    if (const json::value* v = o.if_contains("sns")) {
      d.sns = SnsDestination{str(v->as_object().at("topic_arn"))};
    }
    if (const json::value* v = o.if_contains("firehose")) {
      const json::object& f = v->as_object();
      d.firehose = FirehoseDestination{str(f.at("iam_role_arn")), str(f.at("delivery_stream_arn"))};
    }
    if (const json::value* v = o.if_contains("eventbridge")) {
      d.eventbridge = EventBridgeDestination{str(v->as_object().at("event_bus_arn"))};
    }
    if (const json::value* v = o.if_contains("pinpoint")) {
      d.pinpoint = PinpointDestination{str(v->as_object().at("application_arn"))};
    }
  });
  return d;
}

// ---- identities ----

std::string encode_tags(const std::vector<ResourceTag>& tags) {
  return json::serialize(tags_to_json(tags));
}

std::vector<ResourceTag> decode_tags(std::string_view text) {
  unsigned char arena[2048];
  json::monotonic_resource mr(arena, sizeof arena);
  json::parse_options opts;
  opts.allow_invalid_utf8 = true;
  try {
    return tags_from_json(json::parse(jsv(text), &mr, opts));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("sqlite store: corrupt identity tags in the database: ") +
                             e.what());
  }
}

std::string_view identity_type_name(IdentityType type) { return name_of(type, kIdentityTypes); }
IdentityType parse_identity_type(std::string_view name) {
  return parse_name<IdentityType>(name, kIdentityTypes, "identity type");
}
std::string_view verification_status_name(VerificationStatus status) {
  return name_of(status, kStatuses);
}
VerificationStatus parse_verification_status(std::string_view name) {
  return parse_name<VerificationStatus>(name, kStatuses, "verification status");
}

std::string encode_strings(const std::vector<std::string>& strings) {
  json::array a;
  for (const auto& s : strings) a.emplace_back(s);
  return json::serialize(a);
}

std::vector<std::string> decode_strings(std::string_view text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& x : v.as_array()) {
    if (x.is_string()) out.emplace_back(x.as_string());
  }
  return out;
}

}  // namespace mailtally::storage
