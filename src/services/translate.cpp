#include "services/translate.hpp"

#include <algorithm>
#include <array>

#include "services/doc.hpp"

namespace mailtally::services {
namespace json = boost::json;
using domain::DimensionValueSource;
using domain::EventType;

namespace {

constexpr std::array<std::string_view, domain::kEventTypeCount> kV1Types = {
    "send", "reject", "bounce",           "complaint", "delivery",
    "open", "click",  "renderingFailure", "",          ""};
constexpr std::array<std::string_view, domain::kEventTypeCount> kV2Types = {
    "SEND",           "REJECT",      "BOUNCE", "COMPLAINT",
    "DELIVERY",       "OPEN",        "CLICK",  "RENDERING_FAILURE",
    "DELIVERY_DELAY", "SUBSCRIPTION"};
constexpr std::array<std::string_view, 3> kV1Sources = {"messageTag", "emailHeader", "linkTag"};
constexpr std::array<std::string_view, 3> kV2Sources = {"MESSAGE_TAG", "EMAIL_HEADER", "LINK_TAG"};

const auto& types(SesVersion v) { return v == SesVersion::V1 ? kV1Types : kV2Types; }
const auto& sources(SesVersion v) { return v == SesVersion::V1 ? kV1Sources : kV2Sources; }

}  // namespace

std::optional<EventType> event_type_from(SesVersion v, std::string_view name) {
  const auto& t = types(v);
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!t[i].empty() && t[i] == name) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

std::optional<std::string_view> event_type_to(SesVersion v, EventType t) {
  auto s = types(v)[static_cast<std::size_t>(t)];
  if (s.empty()) return std::nullopt;
  return s;
}

domain::EventDestination destination_from(SesVersion v, const json::object& d, std::string name) {
  const bool v1 = v == SesVersion::V1;
  domain::EventDestination out;
  out.name = std::move(name);
  out.enabled = doc::boolean(d, "Enabled", false);
  if (const auto* types = doc::arr(d, "MatchingEventTypes")) {
    for (const auto& t : *types) {
      if (!t.is_string()) continue;
      // The wire layer has checked the enum, so every name maps.
      if (auto et = event_type_from(v, t.get_string())) {
        if (std::find(out.matching_event_types.begin(), out.matching_event_types.end(), *et) ==
            out.matching_event_types.end()) {
          out.matching_event_types.push_back(*et);
        }
      }
    }
  }
  if (const auto* cw = doc::obj(d, "CloudWatchDestination")) {
    domain::CloudWatchDestination c;
    if (const auto* dims = doc::arr(*cw, "DimensionConfigurations")) {
      for (const auto& item : *dims) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        domain::DimensionConfiguration dim;
        dim.name = doc::str(o, "DimensionName");
        dim.default_value = doc::str(o, "DefaultDimensionValue");
        std::string src = doc::str(o, "DimensionValueSource");
        const auto& s = sources(v);
        for (std::size_t i = 0; i < s.size(); ++i) {
          if (s[i] == src) dim.source = static_cast<DimensionValueSource>(i);
        }
        c.dimensions.push_back(std::move(dim));
      }
    }
    out.cloudwatch = std::move(c);
  }
  if (const auto* sns = doc::obj(d, v1 ? "SNSDestination" : "SnsDestination")) {
    out.sns = domain::SnsDestination{doc::str(*sns, v1 ? "TopicARN" : "TopicArn")};
  }
  if (const auto* fh = doc::obj(d, "KinesisFirehoseDestination")) {
    out.firehose =
        domain::FirehoseDestination{doc::str(*fh, v1 ? "IAMRoleARN" : "IamRoleArn"),
                                    doc::str(*fh, v1 ? "DeliveryStreamARN" : "DeliveryStreamArn")};
  }
  if (!v1) {
    if (const auto* eb = doc::obj(d, "EventBridgeDestination")) {
      out.eventbridge = domain::EventBridgeDestination{doc::str(*eb, "EventBusArn")};
    }
    if (const auto* pp = doc::obj(d, "PinpointDestination")) {
      out.pinpoint = domain::PinpointDestination{doc::str(*pp, "ApplicationArn")};
    }
  }
  return out;
}

json::object destination_to(SesVersion v, const domain::EventDestination& d) {
  const bool v1 = v == SesVersion::V1;
  json::object o;
  o["Name"] = d.name;
  o["Enabled"] = d.enabled;
  json::array types;
  for (auto t : d.matching_event_types) {
    if (auto s = event_type_to(v, t)) types.emplace_back(*s);
  }
  o["MatchingEventTypes"] = std::move(types);
  if (d.cloudwatch) {
    json::array dims;
    for (const auto& dim : d.cloudwatch->dimensions) {
      dims.push_back(
          json::object{{"DimensionName", dim.name},
                       {"DimensionValueSource", sources(v)[static_cast<std::size_t>(dim.source)]},
                       {"DefaultDimensionValue", dim.default_value}});
    }
    o["CloudWatchDestination"] = json::object{{"DimensionConfigurations", std::move(dims)}};
  }
  if (d.sns) {
    o[v1 ? "SNSDestination" : "SnsDestination"] =
        json::object{{v1 ? "TopicARN" : "TopicArn", d.sns->topic_arn}};
  }
  if (d.firehose) {
    o["KinesisFirehoseDestination"] = json::object{
        {v1 ? "IAMRoleARN" : "IamRoleArn", d.firehose->iam_role_arn},
        {v1 ? "DeliveryStreamARN" : "DeliveryStreamArn", d.firehose->delivery_stream_arn}};
  }
  if (!v1 && d.eventbridge) {
    o["EventBridgeDestination"] = json::object{{"EventBusArn", d.eventbridge->event_bus_arn}};
  }
  if (!v1 && d.pinpoint) {
    o["PinpointDestination"] = json::object{{"ApplicationArn", d.pinpoint->application_arn}};
  }
  return o;
}

}  // namespace mailtally::services
