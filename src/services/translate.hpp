// Wire documents <-> domain types for both SES API versions (their member names and enum
// spellings differ: v1 "messageTag"/"send", v2 "MESSAGE_TAG"/"SEND").
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string_view>

#include "domain/types.hpp"

namespace mailtally::services {

enum class SesVersion { V1, V2 };

std::optional<domain::EventType> event_type_from(SesVersion v, std::string_view name);
// nullopt when the version cannot express the type (v1 has no deliveryDelay or subscription).
std::optional<std::string_view> event_type_to(SesVersion v, domain::EventType t);

// v1 EventDestination (with Name) or v2 EventDestinationDefinition (name given apart).
domain::EventDestination destination_from(SesVersion v, const boost::json::object& doc,
                                          std::string name);
// v1 EventDestination or v2 EventDestination (both carry Name).
boost::json::object destination_to(SesVersion v, const domain::EventDestination& d);

}  // namespace mailtally::services
