// Model-driven codecs: route an HTTP request to a service operation, decode its parameters into
// a protocol-independent document, and encode a result or an error in the protocol that was
// called. Nothing here is written per operation; the tables in model.hpp drive it all.
//
// Documents are boost::json values shaped like the model: structures are objects keyed by member
// name, lists are arrays, maps are objects, timestamps are epoch seconds (double), blobs are the
// raw bytes in a string, integers are int64, booleans bool.
//
// Thread-safe: all functions are pure over their arguments and the immutable models.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/expected.hpp"
#include "http/message.hpp"
#include "wire/api_error.hpp"
#include "wire/form.hpp"
#include "wire/model.hpp"

namespace mailtally::wire {

enum class Protocol {
  Query,     // form parameters, XML responses (SES v1, CloudWatch)
  RestJson,  // REST paths and JSON bodies (SES v2)
  Json,      // awsJson1.0 with X-Amz-Target (CloudWatch, query-compatible)
};

std::string_view protocol_name(Protocol p);

// Which operation a request calls. `operation` is null when the service is known but the
// operation is not in its model (the error then names `operation_name`).
struct Route {
  const Service* service = nullptr;
  const Operation* operation = nullptr;
  Protocol protocol = Protocol::Query;
  std::string operation_name;
  const ExtraRoute* extra_route = nullptr;
  std::vector<std::pair<std::string, std::string>> uri_labels;  // decoded REST path labels
  FormParams params;  // Query protocol: body and URL parameters
};

// How to answer when routing fails: the error and the protocol/service to answer in.
struct RouteFailure {
  const Service* service;
  Protocol protocol;
  ApiError error;
};

// `signing_service` is the service named in the SigV4 credential scope, if any ("ses",
// "monitoring"); it disambiguates Query requests that carry no Version.
base::Expected<Route, RouteFailure> route(const http::Request& request,
                                          std::string_view signing_service);

// A parameter that fails the model: `path` names it (e.g.
// "EventDestination.CloudWatchDestination.DimensionConfigurations.1.DimensionValueSource").
struct DecodeError {
  enum class Kind { Malformed, Missing, Invalid } kind;
  std::string path;
  std::string message;  // AWS-style "1 validation error detected: ..."
};

// Decodes and validates (required members, enums, lengths, ranges) the operation's input.
// `request.body` must already be decompressed.
base::Expected<boost::json::object, DecodeError> decode_input(const Route& route,
                                                              const http::Request& request);

// Decodes and validates an operation's input given as a document JSON value: every member under
// its member name, whatever its HTTP binding (the inverse of to_wire_json(..., false)). For
// callers that reach operations without HTTP bindings (the web console).
base::Expected<boost::json::object, DecodeError> decode_document(
    const Service& service, const Operation& operation, const boost::json::value& document);

// Encodes `output` (a document of the operation's output shape) as the protocol wants.
http::Response encode_result(const Route& route, const boost::json::object& output,
                             std::string_view request_id);

// Encodes an error in `protocol` for `service` (its XML namespace, JSON conventions).
http::Response encode_error(const Service* service, Protocol protocol, const ApiError& error,
                            std::string_view request_id);

// Serializes a document value of `shape` as JSON (timestamps as epoch seconds, blobs as base64),
// dropping members the shape does not define. With `body_only`, members bound to the URI, query
// string or headers are left out and body members use their wire names; otherwise every member
// appears under its member name (for tests and tools).
boost::json::value to_wire_json(const Service& service, std::uint16_t shape,
                                const boost::json::value& doc, bool body_only = true);

// The inverse of to_wire_json(..., body_only = true): a JSON value of `shape` as a document
// (base64 blobs decoded, ISO or epoch timestamps as epoch seconds). No constraint checks.
base::Expected<boost::json::value, DecodeError> from_wire_json(const Service& service,
                                                               std::uint16_t shape,
                                                               const boost::json::value& value);

}  // namespace mailtally::wire
