// Domain types of the configuration-set / event-destination control plane and identities.
// Pure values: no I/O, no wire formats. Spec: ../shared/spec/ses-event-publishing.md sections 2-4.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mailtally::domain {

enum class EventType : std::uint8_t {
  Send,
  Reject,
  Bounce,
  Complaint,
  Delivery,
  Open,
  Click,
  RenderingFailure,
  DeliveryDelay,
  Subscription,
};
inline constexpr int kEventTypeCount = 10;

enum class DimensionValueSource : std::uint8_t { MessageTag, EmailHeader, LinkTag };

struct DimensionConfiguration {
  std::string name;
  DimensionValueSource source = DimensionValueSource::MessageTag;
  std::string default_value;
  bool operator==(const DimensionConfiguration&) const = default;
};

struct CloudWatchDestination {
  std::vector<DimensionConfiguration> dimensions;
  bool operator==(const CloudWatchDestination&) const = default;
};
struct SnsDestination {
  std::string topic_arn;
  bool operator==(const SnsDestination&) const = default;
};
struct FirehoseDestination {
  std::string iam_role_arn;
  std::string delivery_stream_arn;
  bool operator==(const FirehoseDestination&) const = default;
};
struct EventBridgeDestination {
  std::string event_bus_arn;
  bool operator==(const EventBridgeDestination&) const = default;
};
struct PinpointDestination {
  std::string application_arn;
  bool operator==(const PinpointDestination&) const = default;
};

struct EventDestination {
  std::string name;
  bool enabled = false;
  std::vector<EventType> matching_event_types;  // in the order given, without duplicates
  // Exactly one of these is set once validated.
  std::optional<CloudWatchDestination> cloudwatch;
  std::optional<SnsDestination> sns;
  std::optional<FirehoseDestination> firehose;
  std::optional<EventBridgeDestination> eventbridge;
  std::optional<PinpointDestination> pinpoint;
  bool operator==(const EventDestination&) const = default;
};

enum class TlsPolicy : std::uint8_t { Optional, Require };

struct ResourceTag {
  std::string key;
  std::string value;
  bool operator==(const ResourceTag&) const = default;
};

struct ConfigurationSet {
  std::string name;
  // Options. Absent optionals are simply not set.
  std::optional<std::string> custom_redirect_domain;  // TrackingOptions
  TlsPolicy tls_policy = TlsPolicy::Optional;         // DeliveryOptions
  std::optional<std::string> sending_pool_name;
  bool reputation_metrics_enabled = false;  // ReputationOptions
  std::optional<double> last_fresh_start;   // epoch seconds
  bool sending_enabled = true;              // SendingOptions / ReputationOptions.SendingEnabled
  std::optional<std::vector<std::string>> suppressed_reasons;  // "BOUNCE", "COMPLAINT"
  std::optional<std::string> vdm_engagement_metrics;           // "ENABLED" / "DISABLED"
  std::optional<std::string> vdm_optimized_shared_delivery;
  std::vector<ResourceTag> tags;
  double created_at = 0;  // epoch seconds
  bool operator==(const ConfigurationSet&) const = default;
};

// A configuration set with its event destinations: the unit the store reads and writes
// atomically.
struct ConfigurationSetRecord {
  ConfigurationSet set;
  std::vector<EventDestination> destinations;  // in creation order
};

enum class IdentityType : std::uint8_t { EmailAddress, Domain };
enum class VerificationStatus : std::uint8_t {
  Pending,
  Success,
  Failed,
  TemporaryFailure,
  NotStarted
};

struct Identity {
  std::string name;  // email address or domain, as given (domains lower-cased)
  IdentityType type = IdentityType::EmailAddress;
  VerificationStatus status = VerificationStatus::Success;
  std::string verification_token;  // for domains (TXT record value)
  std::optional<std::string> default_configuration_set;
  std::vector<ResourceTag> tags;
  double created_at = 0;
  bool operator==(const Identity&) const = default;
};

}  // namespace mailtally::domain
