// The SES rules that turn one sending event into CloudWatch datapoints, one per matching,
// enabled CloudWatch destination (spec section 8; the guide page
// ../shared/spec/000_3d442b634295c136.txt). Pure: no I/O, no clock.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/types.hpp"

namespace mailtally::domain {

inline constexpr std::string_view kSesNamespace = "AWS/SES";

// What an event knows about its message and itself.
struct MessageTag {
  std::string name;
  std::string value;
  bool from_header = false;  // came from X-SES-MESSAGE-TAGS (its characters are checked here)
};

struct EventFacts {
  EventType type = EventType::Send;
  double timestamp = 0;          // epoch seconds of the event
  std::vector<MessageTag> tags;  // message tags, auto-tags (ses:...) included
  std::vector<std::pair<std::string, std::string>> headers;    // the message's email headers
  std::vector<std::pair<std::string, std::string>> link_tags;  // the clicked link's (clicks)
};

// Why a destination published nothing for an event it matched.
enum class DropReason {
  BadHeaderCharacters,  // a header-sourced value has characters outside A-Za-z0-9_@-.
  NonAscii,             // a header-sourced value has a non-ASCII byte
  LinkTagOnNonClick,    // link-tag dimension on an event other than Click
};
std::string_view drop_reason_name(DropReason r);

struct Datapoint {
  std::string metric_name;  // Send, Delivery, Rendering Failure, ...
  std::vector<std::pair<std::string, std::string>> dimensions;  // in configuration order
  double timestamp = 0;
  double value = 1;        // unit Count
  std::int64_t seq = 0;    // the event's log seq (0 when not from the log)
  std::string message_id;  // the event's message (diagnostics)
};

struct Outcome {
  std::optional<Datapoint> datapoint;  // set when published
  std::optional<DropReason> dropped;   // set when matched but not published
  std::string dimension;               // the dimension that caused the drop
};

// nullopt when the destination does not take this event (not CloudWatch, disabled, or the
// event type is not among its MatchingEventTypes).
std::optional<Outcome> publish(const EventDestination& destination, const EventFacts& event);

// A short stable digest of what decides a CloudWatch destination's datapoints (enabled flag,
// matching event types, dimension names, sources and defaults): equal fingerprints publish
// equal datapoints for the same event. The replay ledger keys on it.
std::string publishing_fingerprint(const EventDestination& destination);

// The CloudWatch metric name of an event type (same as the published record's eventType).
std::string_view metric_name(EventType t);

}  // namespace mailtally::domain
