// Message tags: the X-SES-MESSAGE-TAGS header syntax, the tag character rules, the auto-tags,
// and the precedence of API tags over header tags. Pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/publishing.hpp"

namespace mailtally::sending {

inline constexpr std::size_t kMaxTagPartLength = 256;

// Letters, digits, '_' and '-'; 1..256 characters (spec 5.3).
bool is_valid_tag_part(std::string_view s);

// Parses `name=value, name=value` (split on ',', trim spaces/tabs, split on the first '=').
// Empty items are skipped; an item without '=' or with an empty name is skipped. Characters are
// NOT checked here: header tags are kept as given (from_header = true) and the CloudWatch rule
// drops their datapoints later. Never throws on any input.
std::vector<domain::MessageTag> parse_message_tags_header(std::string_view value);

// What the auto-tags are made of.
struct AutoTagFacts {
  std::string configuration_set;  // empty: no ses:configuration-set tag
  std::string from_domain;
  std::string caller_identity;
  std::string source_ip;
  std::string operation;           // SendEmail, SendRawEmail, ...
  std::string source_tls_version;  // empty: no ses:source-tls-version tag
};

// The message's final tags: the auto-tags (ses:...) first, then the API tags when the call gave
// any, else the header tags — never both (spec 5.3).
std::vector<domain::MessageTag> final_tags(const AutoTagFacts& facts,
                                           const std::vector<domain::MessageTag>& api_tags,
                                           const std::vector<domain::MessageTag>& header_tags);

}  // namespace mailtally::sending
