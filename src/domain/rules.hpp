// The naming and character rules of configuration sets, event destinations and CloudWatch
// dimensions (spec section 4 and 13). Pure functions; every failure message names the field
// and the offending value.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/error.hpp"
#include "domain/types.hpp"

namespace mailtally::domain {

inline constexpr std::size_t kMaxConfigurationSets = 10000;
inline constexpr std::size_t kMaxEventDestinationsPerSet = 10;
inline constexpr std::size_t kMaxDimensionsPerDestination = 10;
inline constexpr std::size_t kMaxNameLength = 64;
inline constexpr std::size_t kMaxDimensionNameLength = 256;
inline constexpr std::size_t kMaxDimensionValueLength = 256;

// Letters, digits, '_' and '-'; 1..64 characters.
Status check_configuration_set_name(std::string_view name);
Status check_event_destination_name(std::string_view set, std::string_view name);
// Exactly one target, at least one event type, valid ARNs, and for CloudWatch: at most 10
// dimensions, names of letters/digits/'_'/'-'/':' (<= 256), default values adding '@' and '.'
// (<= 256), unique names, no forbidden email-header names.
Status check_event_destination(std::string_view set, const EventDestination& destination);

// Email-header dimensions may not use these header names (any case).
bool is_forbidden_header_dimension(std::string_view name);

// `arn:partition:service:region:account:resource` with the given service.
bool is_valid_arn(std::string_view arn, std::string_view service);

// Identities: a plausible address (local@domain) or a domain name.
bool is_valid_email_address(std::string_view address);
bool is_valid_domain(std::string_view domain);

std::string_view event_type_name(EventType t);  // the published name: Send, Rendering Failure...

}  // namespace mailtally::domain
