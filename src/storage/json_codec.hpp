// Boost.JSON encoding of the domain values kept in JSON columns (by every storage adapter). Enums
// are stored by name (not by number) so reordering an enum cannot silently change stored data.
// Doubles are never put in JSON (Boost 1.81 does not parse them bit-exactly); they live in REAL
// columns.
//
// Pure functions, thread-safe. Decoders throw std::runtime_error on malformed input (a corrupt
// or foreign database), never return partial values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/types.hpp"

namespace mailtally::storage {

// configuration_sets.record: every field of ConfigurationSet except name, created_at and
// last_fresh_start (columns).
std::string encode_set_options(const domain::ConfigurationSet& set);
// Fills the JSON-held fields of `set`, leaving name/created_at/last_fresh_start untouched.
void decode_set_options(std::string_view json, domain::ConfigurationSet& set);

// event_destinations.definition: every field of EventDestination except the name (a column).
std::string encode_destination(const domain::EventDestination& destination);
domain::EventDestination decode_destination(std::string name, std::string_view json);

// A list of strings (the queue's recipients) as a JSON array. The decoder is lenient: anything
// but an array gives an empty list, non-strings are skipped.
std::string encode_strings(const std::vector<std::string>& strings);
std::vector<std::string> decode_strings(std::string_view json);

// identities.tags.
std::string encode_tags(const std::vector<domain::ResourceTag>& tags);
std::vector<domain::ResourceTag> decode_tags(std::string_view json);

// Enum names used in columns and JSON.
std::string_view identity_type_name(domain::IdentityType type);
domain::IdentityType parse_identity_type(std::string_view name);
std::string_view verification_status_name(domain::VerificationStatus status);
domain::VerificationStatus parse_verification_status(std::string_view name);

}  // namespace mailtally::storage
