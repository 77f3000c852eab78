// Result and error encoding for the three protocols.
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdio>

#include "base/crypto.hpp"
#include "base/time_format.hpp"
#include "wire/codec.hpp"
#include "wire/xml_writer.hpp"

namespace mailtally::wire {
namespace json = boost::json;
namespace {

std::string format_double(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  // Prefer the shortest text that round-trips.
  for (int prec = 1; prec <= 17; ++prec) {
    char tmp[32];
    std::snprintf(tmp, sizeof tmp, "%.*g", prec, d);
    if (std::strtod(tmp, nullptr) == d) return tmp;
  }
  return buf;
}

// True when `v` has the JSON type the scalar shape needs; the encoders skip anything else, so a
// malformed document can never make them throw.
bool fits(const Shape& shape, const json::value& v) {
  switch (shape.type) {
    case ShapeType::Boolean:
      return v.is_bool();
    case ShapeType::Integer:
    case ShapeType::Long:
    case ShapeType::Double:
    case ShapeType::Float:
    case ShapeType::Timestamp:
      return v.is_number();
    case ShapeType::String:
    case ShapeType::Blob:
      return v.is_string();
    case ShapeType::Structure:
    case ShapeType::Map:
      return v.is_object();
    case ShapeType::List:
      return v.is_array();
  }
  return false;
}

std::string scalar_text(const Shape& shape, const json::value& v) {
  switch (shape.type) {
    case ShapeType::Boolean:
      return v.is_bool() && v.get_bool() ? "true" : "false";
    case ShapeType::Integer:
    case ShapeType::Long:
      if (v.is_int64()) return std::to_string(v.get_int64());
      if (v.is_uint64()) return std::to_string(v.get_uint64());
      return std::to_string(static_cast<long long>(v.to_number<double>()));
    case ShapeType::Double:
    case ShapeType::Float:
      return format_double(v.to_number<double>());
    case ShapeType::Timestamp:
      return base::format_iso8601(v.to_number<double>());
    case ShapeType::Blob:
      return base::base64_encode(v.get_string());
    default:
      if (v.is_string()) return std::string(v.get_string());
      return json::serialize(v);
  }
}

void to_xml(const Service& svc, std::uint16_t shape_index, const json::value& v, XmlWriter& w) {
  const Shape& shape = svc.shape(shape_index);
  switch (shape.type) {
    case ShapeType::Structure: {
      if (!v.is_object()) return;
      const auto& obj = v.get_object();
      for (const Member& m : svc.members_of(shape)) {
        auto it = obj.find(m.name);
        if (it == obj.end() || !fits(svc.shape(m.shape), it->value())) continue;
        w.open(m.wire_name());
        to_xml(svc, m.shape, it->value(), w);
        w.close();
      }
      return;
    }
    case ShapeType::List:
      if (!v.is_array()) return;
      for (const auto& item : v.get_array()) {
        if (!fits(svc.shape(shape.member_shape), item)) continue;
        w.open("member");
        to_xml(svc, shape.member_shape, item, w);
        w.close();
      }
      return;
    case ShapeType::Map:
      if (!v.is_object()) return;
      for (const auto& kv : v.get_object()) {
        if (!fits(svc.shape(shape.value_shape), kv.value())) continue;
        w.open("entry");
        w.element("key", kv.key());
        w.open("value");
        to_xml(svc, shape.value_shape, kv.value(), w);
        w.close();
        w.close();
      }
      return;
    default:
      w.text(scalar_text(shape, v));
  }
}

void common_headers(http::Response& r, std::string_view request_id) {
  r.headers.add("x-amzn-RequestId", std::string(request_id));
}

}  // namespace

json::value to_wire_json(const Service& svc, std::uint16_t shape_index, const json::value& v,
                         bool body_only) {
  const Shape& shape = svc.shape(shape_index);
  if (!fits(shape, v)) return nullptr;
  switch (shape.type) {
    case ShapeType::Structure: {
      json::object out;
      if (!v.is_object()) return out;
      const auto& obj = v.get_object();
      for (const Member& m : svc.members_of(shape)) {
        if (body_only && m.location != Location::Body) continue;
        auto it = obj.find(m.name);
        if (it == obj.end() || !fits(svc.shape(m.shape), it->value())) continue;
        out[body_only ? m.wire_name() : m.name] =
            to_wire_json(svc, m.shape, it->value(), body_only);
      }
      return out;
    }
    case ShapeType::List: {
      json::array out;
      if (!v.is_array()) return out;
      for (const auto& item : v.get_array()) {
        if (fits(svc.shape(shape.member_shape), item)) {
          out.push_back(to_wire_json(svc, shape.member_shape, item, body_only));
        }
      }
      return out;
    }
    case ShapeType::Map: {
      json::object out;
      if (!v.is_object()) return out;
      for (const auto& kv : v.get_object()) {
        out[kv.key()] = to_wire_json(svc, shape.value_shape, kv.value(), body_only);
      }
      return out;
    }
    case ShapeType::Blob:
      return json::string(base::base64_encode(v.get_string()));
    case ShapeType::Timestamp:
      return v.to_number<double>();
    case ShapeType::Double:
    case ShapeType::Float: {
      double d = v.to_number<double>();
      if (std::isnan(d) || std::isinf(d)) return json::string(format_double(d));
      return d;
    }
    default:
      return v;
  }
}

http::Response encode_result(const Route& route, const json::object& output,
                             std::string_view request_id) {
  const Service& svc = *route.service;
  const Operation& op = *route.operation;
  http::Response r;
  r.status = op.response_code ? op.response_code : 200;
  common_headers(r, request_id);
  switch (route.protocol) {
    case Protocol::Query: {
      r.body.reserve(256);
      XmlWriter w(r.body);
      w.open_with_xmlns(std::string(op.name) + "Response", svc.xml_namespace);
      if (op.output != kNoShape) {
        w.open(op.result_wrapper.empty() ? std::string(op.name) + "Result"
                                         : std::string(op.result_wrapper));
        to_xml(svc, op.output, output, w);
        w.close();
      }
      w.open("ResponseMetadata");
      w.element("RequestId", request_id);
      w.close();
      w.close();
      r.headers.add("Content-Type", "text/xml");
      return r;
    }
    case Protocol::Json: {
      r.headers.add("Content-Type", "application/x-amz-json-1.0");
      r.body = op.output == kNoShape ? "{}" : json::serialize(to_wire_json(svc, op.output, output));
      return r;
    }
    case Protocol::RestJson: {
      r.headers.add("Content-Type", "application/json");
      if (op.output == kNoShape) {
        r.body = "{}";
        return r;
      }
      for (const Member& m : svc.members_of(svc.shape(op.output))) {
        if (m.location != Location::Header) continue;
        if (auto* v = output.if_contains(m.name); v && fits(svc.shape(m.shape), *v)) {
          r.headers.add(std::string(m.wire_name()), scalar_text(svc.shape(m.shape), *v));
        }
      }
      r.body = json::serialize(to_wire_json(svc, op.output, output));
      return r;
    }
  }
  return r;
}

http::Response encode_error(const Service* service, Protocol protocol, const ApiError& error,
                            std::string_view request_id) {
  http::Response r;
  r.status = error.http_status;
  common_headers(r, request_id);
  switch (protocol) {
    case Protocol::Query: {
      XmlWriter w(r.body);
      if (service && !service->xml_namespace.empty()) {
        w.open_with_xmlns("ErrorResponse", service->xml_namespace);
      } else {
        w.open("ErrorResponse");
      }
      w.open("Error");
      w.element("Type", error.sender_fault ? "Sender" : "Receiver");
      w.element("Code", error.code);
      w.element("Message", error.message);
      for (const auto& kv : error.fields) {
        if (kv.value().is_string()) w.element(kv.key(), kv.value().get_string());
      }
      w.close();
      w.element("RequestId", request_id);
      w.close();
      r.headers.add("Content-Type", "text/xml");
      return r;
    }
    case Protocol::Json: {
      json::object body = error.fields;
      body["__type"] = error.type_name.empty() ? error.code : error.type_name;
      body["message"] = error.message;
      r.headers.add("Content-Type", "application/x-amz-json-1.0");
      if (service && service->query_compatible) {
        r.headers.add("x-amzn-query-error",
                      error.code + (error.sender_fault ? ";Sender" : ";Receiver"));
      }
      r.body = json::serialize(body);
      return r;
    }
    case Protocol::RestJson: {
      json::object body = error.fields;
      body["message"] = error.message;
      r.headers.add("Content-Type", "application/json");
      r.headers.add("x-amzn-ErrorType", error.type_name.empty() ? error.code : error.type_name);
      r.body = json::serialize(body);
      return r;
    }
  }
  return r;
}

}  // namespace mailtally::wire
