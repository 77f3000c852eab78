#include "domain/publishing.hpp"

#include <algorithm>

#include "base/crypto.hpp"
#include "domain/rules.hpp"

namespace mailtally::domain {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Header-sourced names and values may only hold A-Z a-z 0-9 _ @ - . (ASCII).
std::optional<DropReason> check_header_value(std::string_view v) {
  for (unsigned char c : v) {
    if (c >= 0x80) return DropReason::NonAscii;
  }
  for (char c : v) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '@' || c == '-' || c == '.';
    if (!ok) return DropReason::BadHeaderCharacters;
  }
  return std::nullopt;
}

}  // namespace

std::string_view drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::BadHeaderCharacters:
      return "bad_header_characters";
    case DropReason::NonAscii:
      return "non_ascii";
    case DropReason::LinkTagOnNonClick:
      return "link_tag_on_non_click";
  }
  return "unknown";
}

std::string_view metric_name(EventType t) { return event_type_name(t); }

std::string publishing_fingerprint(const EventDestination& d) {
  std::string text = d.enabled ? "enabled;" : "disabled;";
  for (EventType t : d.matching_event_types) {
    text += event_type_name(t);
    text += ',';
  }
  text += ';';
  if (d.cloudwatch) {
    for (const auto& dim : d.cloudwatch->dimensions) {
      text += dim.name;
      text += '\x1f';
      text += std::to_string(static_cast<int>(dim.source));
      text += '\x1f';
      text += dim.default_value;
      text += '\x1e';
    }
  }
  return base::hex(base::sha256(text)).substr(0, 16);
}

std::optional<Outcome> publish(const EventDestination& d, const EventFacts& e) {
  if (!d.cloudwatch || !d.enabled) return std::nullopt;
  if (std::find(d.matching_event_types.begin(), d.matching_event_types.end(), e.type) ==
      d.matching_event_types.end()) {
    return std::nullopt;
  }
  Outcome out;
  Datapoint p;
  p.metric_name = std::string(metric_name(e.type));
  p.timestamp = e.timestamp;
  for (const auto& dim : d.cloudwatch->dimensions) {
    std::string value = dim.default_value;
    switch (dim.source) {
      case DimensionValueSource::MessageTag: {
        auto it = std::find_if(e.tags.begin(), e.tags.end(),
                               [&](const MessageTag& t) { return t.name == dim.name; });
        if (it != e.tags.end()) {
          if (it->from_header) {
            if (auto bad = check_header_value(it->value)) {
              out.dropped = bad;
              out.dimension = dim.name;
              return out;
            }
          }
          value = it->value;
        }
        break;
      }
      case DimensionValueSource::EmailHeader: {
        auto it = std::find_if(e.headers.begin(), e.headers.end(),
                               [&](const auto& h) { return iequal(h.first, dim.name); });
        if (it != e.headers.end()) {
          if (auto bad = check_header_value(it->second)) {
            out.dropped = bad;
            out.dimension = dim.name;
            return out;
          }
          value = it->second;
        }
        break;
      }
      case DimensionValueSource::LinkTag: {
        if (e.type != EventType::Click) {
          out.dropped = DropReason::LinkTagOnNonClick;
          out.dimension = dim.name;
          return out;
        }
        auto it = std::find_if(e.link_tags.begin(), e.link_tags.end(),
                               [&](const auto& t) { return t.first == dim.name; });
        if (it != e.link_tags.end()) value = it->second;
        break;
      }
    }
    p.dimensions.emplace_back(dim.name, std::move(value));
  }
  out.datapoint = std::move(p);
  return out;
}

}  // namespace mailtally::domain
