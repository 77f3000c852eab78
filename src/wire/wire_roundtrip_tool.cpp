// Test tool (not installed): lets tests/test_wire_roundtrip.py check the codecs against
// botocore's own serializers and parsers.
//
// Reads JSON lines on stdin and answers one JSON line each on stdout:
//   {"decode": {"method","target","headers":{..},"body_b64","scope"}}
//       -> {"service","operation","protocol","input": <document as wire JSON, member names>}
//          or {"error": {"kind","path","message"}} / {"route_error": {"code","message"}}
//   {"encode": {"service","operation","protocol","output": <document as wire JSON>}}
//       -> {"status", "headers": {..}, "body"}
#include <boost/json.hpp>
#include <iostream>

#include "base/crypto.hpp"
#include "wire/codec.hpp"

namespace json = boost::json;
using namespace mailtally;

namespace {

json::object decode(const json::object& in) {
  http::Request req;
  req.method = std::string(in.at("method").as_string());
  req.target = std::string(in.at("target").as_string());
  for (const auto& kv : in.at("headers").as_object()) {
    req.headers.add(std::string(kv.key()), std::string(kv.value().as_string()));
  }
  req.body = *base::base64_decode(in.at("body_b64").as_string());
  std::string scope = in.contains("scope") ? std::string(in.at("scope").as_string()) : "";
  auto r = wire::route(req, scope);
  if (!r) {
    return json::object{{"route_error", json::object{{"code", r.error().error.code},
                                                     {"message", r.error().error.message}}}};
  }
  auto doc = wire::decode_input(*r, req);
  if (!doc) {
    return json::object{{"error", json::object{{"kind", static_cast<int>(doc.error().kind)},
                                               {"path", doc.error().path},
                                               {"message", doc.error().message}}}};
  }
  json::value wire_doc = r->operation->input == wire::kNoShape
                             ? json::value(json::object())
                             : wire::to_wire_json(*r->service, r->operation->input, *doc, false);
  return json::object{{"service", r->service->key},
                      {"operation", r->operation->name},
                      {"protocol", wire::protocol_name(r->protocol)},
                      {"input", wire_doc}};
}

json::object encode(const json::object& in) {
  std::string_view service_key = in.at("service").as_string();
  std::string_view operation = in.at("operation").as_string();
  std::string_view protocol = in.at("protocol").as_string();
  const wire::Service* svc = nullptr;
  for (const auto* s : wire::all_models()) {
    if (s->key == service_key) svc = s;
  }
  if (!svc) throw std::runtime_error("unknown service");
  wire::Route route;
  route.service = svc;
  route.operation = svc->find_operation(operation);
  if (!route.operation) throw std::runtime_error("unknown operation");
  route.protocol = protocol == "query"  ? wire::Protocol::Query
                   : protocol == "json" ? wire::Protocol::Json
                                        : wire::Protocol::RestJson;
  json::object doc;
  if (route.operation->output != wire::kNoShape) {
    auto v = wire::from_wire_json(*svc, route.operation->output, in.at("output"));
    if (!v) throw std::runtime_error(v.error().message);
    doc = v->as_object();
  }
  auto resp = wire::encode_result(route, doc, "req-roundtrip");
  json::object headers;
  for (const auto& [k, v] : resp.headers.items()) headers[k] = v;
  return json::object{{"status", resp.status}, {"headers", headers}, {"body", resp.body}};
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    json::object out;
    try {
      json::object in = json::parse(line).as_object();
      if (const auto* d = in.if_contains("decode")) {
        out = decode(d->as_object());
      } else if (const auto* e = in.if_contains("encode")) {
        out = encode(e->as_object());
      } else {
        out = json::object{{"exception", "expected decode or encode"}};
      }
    } catch (const std::exception& e) {
      out = json::object{{"exception", e.what()}};
    }
    std::cout << json::serialize(out) << std::endl;
  }
  return 0;
}
