#include "sending/tags.hpp"

namespace mailtally::sending {

bool is_valid_tag_part(std::string_view s) {
  if (s.empty() || s.size() > kMaxTagPartLength) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {
std::string_view trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}
}  // namespace

std::vector<domain::MessageTag> parse_message_tags_header(std::string_view value) {
  std::vector<domain::MessageTag> out;
  while (!value.empty()) {
    auto comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = trim(item.substr(0, eq));
    if (name.empty()) continue;
    out.push_back({std::string(name), std::string(trim(item.substr(eq + 1))), true});
  }
  return out;
}

std::vector<domain::MessageTag> final_tags(const AutoTagFacts& f,
                                           const std::vector<domain::MessageTag>& api_tags,
                                           const std::vector<domain::MessageTag>& header_tags) {
  std::vector<domain::MessageTag> out;
  if (!f.configuration_set.empty()) out.push_back({"ses:configuration-set", f.configuration_set});
  out.push_back({"ses:source-ip", f.source_ip});
  if (!f.source_tls_version.empty()) {
    out.push_back({"ses:source-tls-version", f.source_tls_version});
  }
  out.push_back({"ses:from-domain", f.from_domain});
  out.push_back({"ses:caller-identity", f.caller_identity});
  out.push_back({"ses:operation", f.operation});
  const auto& chosen = api_tags.empty() ? header_tags : api_tags;
  out.insert(out.end(), chosen.begin(), chosen.end());
  return out;
}

}  // namespace mailtally::sending
