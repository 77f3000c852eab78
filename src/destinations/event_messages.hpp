// The bodies external event destinations receive, built from an SES event record (JSON text):
// the SNS Notification and SubscriptionConfirmation envelopes, EventBridge's event shape, and
// the Firehose stream file name. Pure functions (no I/O), thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailtally::destinations {

// 2026-11-30T03:15:26.123Z (always with milliseconds, as SNS and SES write times).
std::string iso_millis(double epoch_seconds);

// A UUID-shaped id derived from `seed` (the same seed gives the same id), so that a retried or
// replayed delivery carries the id of the first attempt and subscribers can drop duplicates.
std::string stable_uuid(std::string_view seed);

struct SnsEnvelope {
  std::string type;  // "Notification" or "SubscriptionConfirmation"
  std::string message_id;
  std::string topic_arn;
  std::string message;  // Notification: the SES record (JSON text)
  double timestamp = 0;
  std::string token;            // SubscriptionConfirmation only
  std::string subscribe_url;    // SubscriptionConfirmation only
  std::string unsubscribe_url;  // Notification only
  std::string signing_cert_url;
};

// The canonical string SNS signs (SignatureVersion 1 and 2): "Name\nvalue\n" for each signed
// field in byte order of the names. Message and TopicArn as the envelope writes them: bytes
// that are not UTF-8 replaced by U+FFFD.
std::string sns_string_to_sign(const SnsEnvelope& e);

// The JSON body with Signature (base64) and SignatureVersion as given.
std::string sns_envelope_json(const SnsEnvelope& e, std::string_view signature_version,
                              std::string_view signature);

// EventBridge's detail-type for an SES eventType ("Send" -> "Email Sent"); nullopt if unknown.
std::optional<std::string_view> eventbridge_detail_type(std::string_view event_type);

// The EventBridge event: version "0", id, detail-type, source "aws.ses", account, time (second
// precision), region (from the bus ARN), resources [], detail (the record as an object).
// nullopt when `record` is not a JSON object or the type is unknown.
std::optional<std::string> eventbridge_event_json(std::string_view record,
                                                  std::string_view event_type,
                                                  std::string_view event_bus_arn,
                                                  std::string_view id, double time);

// The delivery stream name of a Firehose ARN (…:deliverystream/NAME); nullopt if it has none
// or the name could escape its folder.
std::optional<std::string> firehose_stream_name(std::string_view delivery_stream_arn);

}  // namespace mailtally::destinations
