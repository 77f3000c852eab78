// The AWS service models (SES v1, SES v2, CloudWatch, SNS) as static tables generated at build time
// by tools/gen_wire_model.py from the botocore JSON models (plus model_overlays.json). Immutable,
// so safe to read from any thread. Do not hand-edit the generated file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace mailtally::wire {

inline constexpr std::uint16_t kNoShape = 0xffff;

enum class ShapeType : std::uint8_t {
  Structure,
  List,
  Map,
  String,
  Integer,
  Long,
  Boolean,
  Double,
  Float,
  Timestamp,
  Blob,
};

enum class Location : std::uint8_t { Body, Uri, QueryString, Header, Headers, StatusCode };

struct Member {
  std::string_view name;
  std::string_view location_name;  // wire name (uri label, query key, header); empty: name
  std::uint16_t shape;
  Location location;
  bool required;
  std::string_view wire_name() const { return location_name.empty() ? name : location_name; }
};

struct Shape {
  std::string_view name;
  ShapeType type;
  // Structure: members [first_member, first_member + member_count) in Service::members.
  std::uint16_t first_member;
  std::uint16_t member_count;
  // List: member shape. Map: key and value shapes.
  std::uint16_t member_shape;
  std::uint16_t key_shape;
  std::uint16_t value_shape;
  // Constraints: length (strings, blobs, lists, maps) or range (numbers).
  bool has_min;
  bool has_max;
  double min;
  double max;
  // String enum values [first_enum, first_enum + enum_count) in Service::enum_values.
  std::uint16_t first_enum;
  std::uint16_t enum_count;
  // Errors: the wire code (the query-protocol code, e.g. ConfigurationSetDoesNotExist; the shape
  // name when the model gives none), its HTTP status and whether the sender is at fault.
  bool is_error;
  std::string_view error_code;
  std::uint16_t http_status;
  bool sender_fault;
};

// An additional HTTP binding for an operation, taken from newer SDKs (model_overlays.json):
// e.g. the JS SDK v3 sends SES v2 ListConfigurationSets as POST /v2/email/list-configuration-sets
// with the querystring members in a JSON body.
struct ExtraRoute {
  std::string_view method;
  std::string_view request_uri;
  bool query_members_in_body;
};

struct Operation {
  std::string_view name;
  std::string_view method;
  std::string_view request_uri;
  std::uint16_t response_code;
  std::uint16_t input;   // kNoShape when the operation takes no input
  std::uint16_t output;  // kNoShape when it returns nothing
  std::string_view result_wrapper;
  std::uint16_t first_error;  // into Service::error_shapes
  std::uint16_t error_count;
  std::uint16_t first_extra_route;  // into Service::extra_routes
  std::uint16_t extra_route_count;
};

struct Service {
  std::string_view key;  // "ses", "sesv2", "cloudwatch"
  std::string_view service_id;
  std::string_view protocol;  // "query" or "rest-json"
  std::string_view api_version;
  std::string_view signing_name;  // SigV4 scope service
  std::string_view xml_namespace;
  std::string_view target_prefix;  // JSON 1.0 X-Amz-Target prefix, when the service takes JSON
  bool query_compatible;           // JSON errors carry x-amzn-query-error
  std::span<const Shape> shapes;
  std::span<const Member> members;
  std::span<const std::string_view> enum_values;
  std::span<const Operation> operations;  // sorted by name
  std::span<const std::uint16_t> error_shapes;
  std::span<const ExtraRoute> extra_routes;

  const Shape& shape(std::uint16_t i) const { return shapes[i]; }
  std::span<const Member> members_of(const Shape& s) const {
    return members.subspan(s.first_member, s.member_count);
  }
  std::span<const std::string_view> enum_of(const Shape& s) const {
    return enum_values.subspan(s.first_enum, s.enum_count);
  }
  std::span<const std::uint16_t> errors_of(const Operation& op) const {
    return error_shapes.subspan(op.first_error, op.error_count);
  }
  std::span<const ExtraRoute> extra_routes_of(const Operation& op) const {
    return extra_routes.subspan(op.first_extra_route, op.extra_route_count);
  }
  // Binary search by exact operation name; nullptr when unknown.
  const Operation* find_operation(std::string_view name) const;
  // Linear search by shape name; nullptr when unknown.
  const Shape* find_shape(std::string_view name) const;
  // An error shape by shape name or by wire code; nullptr when unknown.
  const Shape* find_error(std::string_view name_or_code) const;
};

const Service& ses_v1_model();
const Service& ses_v2_model();
const Service& cloudwatch_model();
const Service& sns_model();  // SNS 2010-03-31 (Query): the topic/subscription subset
std::span<const Service* const> all_models();

}  // namespace mailtally::wire
