#include "services/gateway.hpp"

#include <zlib.h>

#include <utility>

#include "base/ids.hpp"

namespace mailtally::services {
namespace {

constexpr std::size_t kMaxInflatedBytes = 64 * 1024 * 1024;

// The service named in the credential scope, without verifying anything.
std::string_view scope_service(const http::Request& req) {
  std::string_view cred;
  if (const std::string* auth = req.headers.find("Authorization")) {
    auto p = auth->find("Credential=");
    if (p != std::string::npos) cred = std::string_view(*auth).substr(p + 11);
  } else {
    auto q = req.query();
    auto p = q.find("X-Amz-Credential=");
    if (p != std::string_view::npos) cred = q.substr(p + 17);
  }
  // AKID/DATE/REGION/SERVICE/aws4_request (the query form has %2F separators).
  int slashes = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < cred.size() && i < 256; ++i) {
    bool sep = cred[i] == '/';
    std::size_t width = 1;
    if (!sep && cred.substr(i, 3) == "%2F") {
      sep = true;
      width = 3;
    }
    if (!sep) continue;
    if (++slashes == 3) start = i + width;
    if (slashes == 4) return cred.substr(start, i - start);
    i += width - 1;
  }
  return {};
}

}  // namespace

std::optional<std::string> gunzip(std::string_view data, std::size_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return std::nullopt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return std::nullopt;
    }
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > max_bytes || (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0)) {
      inflateEnd(&zs);
      return std::nullopt;
    }
  }
  inflateEnd(&zs);
  return out;
}

Gateway::Gateway(const auth::CredentialSource& credentials, const base::Clock& clock,
                 const OperationTable& operations)
    : credentials_(credentials), clock_(clock), operations_(operations) {}

void Gateway::set_validation_mapper(const wire::Service& service, ValidationMapper mapper) {
  mappers_.emplace_back(&service, std::move(mapper));
}

bool Gateway::is_api_request(const http::Request& request) {
  std::string_view path = request.path();
  return path == "/" || path.substr(0, 4) == "/v2/" || path.substr(0, 10) == "/v1/email/" ||
         request.headers.find("X-Amz-Target");
}

wire::ApiError Gateway::map_validation(const wire::Service& service, const wire::Operation& op,
                                       const wire::DecodeError& e) const {
  for (const auto& [svc, mapper] : mappers_) {
    if (svc == &service) return mapper(op, e);
  }
  return wire::generic_error(400, "ValidationError", e.message);
}

http::Response Gateway::handle(http::Request& request) {
  if (!observer_) {
    const wire::Service* service = nullptr;
    const wire::Operation* operation = nullptr;
    return handle_routed(request, service, operation);
  }
  const auto start = std::chrono::steady_clock::now();
  const wire::Service* service = nullptr;
  const wire::Operation* operation = nullptr;
  http::Response response = handle_routed(request, service, operation);
  observer_->observe(service, operation, response.status, std::chrono::steady_clock::now() - start);
  return response;
}

http::Response Gateway::handle_routed(http::Request& request, const wire::Service*& routed_service,
                                      const wire::Operation*& routed_operation) {
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  const std::string request_id = base::uuid4();
  auto fail = [&](const wire::Service* svc, wire::Protocol p, const wire::ApiError& e) {
    stats_.errors.fetch_add(1, std::memory_order_relaxed);
    return wire::encode_error(svc, p, e, request_id);
  };

  // Bodies are signed as sent. A gzip body is inflated for routing and decoding, but the
  // signature is checked over the bytes that came over the wire.
  std::string wire_body;
  bool inflate_failed = false;
  if (const std::string* enc = request.headers.find("Content-Encoding");
      enc && http::iequals(*enc, "gzip")) {
    if (auto plain = gunzip(request.body, kMaxInflatedBytes)) {
      wire_body = std::exchange(request.body, std::move(*plain));
    } else {
      inflate_failed = true;
    }
  }
  auto verify = [&](std::string_view expected_service) {
    if (!wire_body.empty()) std::swap(request.body, wire_body);
    auth::VerifyOptions opts;
    opts.expected_service = expected_service;
    auto who = auth::verify(request, credentials_, clock_.now(), opts);
    if (!wire_body.empty()) std::swap(request.body, wire_body);
    return who;
  };
  auto auth_error = [&](const auth::AuthError& e) {
    stats_.auth_failures.fetch_add(1, std::memory_order_relaxed);
    return wire::generic_error(auth::failure_http_status(e.failure),
                               std::string(auth::failure_code(e.failure)), e.message);
  };

  const std::string_view scope = scope_service(request);
  auto routed = wire::route(request, scope);
  if (!routed) {
    // Authentication comes first, as at AWS: unsigned or badly signed requests learn nothing
    // about routing. The error is answered in the protocol the request looked like.
    const auto& f = routed.error();
    auto who = verify(scope);
    if (!who) return fail(f.service, f.protocol, auth_error(who.error()));
    return fail(f.service, f.protocol, f.error);
  }
  wire::Route& route = *routed;
  const wire::Service& service = *route.service;
  routed_service = route.service;
  routed_operation = route.operation;

  auto who = verify(service.signing_name);
  if (!who) return fail(&service, route.protocol, auth_error(who.error()));
  if (inflate_failed) {
    return fail(&service, route.protocol,
                wire::generic_error(400, "InvalidParameterValue",
                                    "The request body is not valid gzip data."));
  }

  const OperationHandler* handler = operations_.find(service, route.operation->name);
  if (!handler) {
    return fail(
        &service, route.protocol,
        wire::generic_error(501, "NotImplemented",
                            "mailtally does not implement " + std::string(service.service_id) +
                                " " + std::string(route.operation->name) + " (yet).",
                            false));
  }

  auto input = wire::decode_input(route, request);
  if (!input) {
    return fail(&service, route.protocol, map_validation(service, *route.operation, input.error()));
  }

  if (const AsyncOperationHandler* async = operations_.find_async(service, route.operation->name)) {
    return handle_async(*async, *who, request, request_id, std::move(route), *input);
  }

  try {
    CallContext ctx{*who, request, request_id, service};
    auto out = (*handler)(ctx, *input);
    if (!out) return fail(&service, route.protocol, out.error());
    return wire::encode_result(route, *out, request_id);
  } catch (const std::exception& ex) {
    return fail(&service, route.protocol,
                wire::generic_error(500, "InternalFailure",
                                    std::string("internal error: ") + ex.what(), false));
  }
}

http::Response Gateway::handle_async(const AsyncOperationHandler& handler,
                                     const auth::Identity& caller, http::Request& request,
                                     const std::string& request_id, wire::Route route,
                                     const boost::json::object& input) {
  http::Response parked;
  parked.deferred = std::make_shared<http::Deferred>();
  // Owned by the reply until the output is encoded on the connection's thread.
  struct Call {
    wire::Route route;
    std::string request_id;
  };
  auto call = std::make_shared<Call>(Call{std::move(route), request_id});
  auto reply = [this, call, deferred = parked.deferred](Output out) {
    deferred->complete([this, call, out = std::move(out)]() {
      const wire::Route& r = call->route;
      if (!out) {
        stats_.errors.fetch_add(1, std::memory_order_relaxed);
        return wire::encode_error(r.service, r.protocol, out.error(), call->request_id);
      }
      return wire::encode_result(r, *out, call->request_id);
    });
  };
  try {
    CallContext ctx{caller, request, request_id, *call->route.service};
    handler(ctx, input, reply);
  } catch (const std::exception& ex) {
    // Thrown before the handler replied (it replies at most once, and not after throwing).
    reply(base::unexpected(wire::generic_error(
        500, "InternalFailure", std::string("internal error: ") + ex.what(), false)));
  }
  return parked;
}

Output Gateway::call(const wire::Service& service, std::string_view operation,
                     const auth::Identity& caller, const http::Request& request,
                     const boost::json::value& input) {
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  auto fail = [&](wire::ApiError e) -> Output {
    stats_.errors.fetch_add(1, std::memory_order_relaxed);
    return base::unexpected(std::move(e));
  };
  const wire::Operation* op = service.find_operation(operation);
  if (!op) {
    return fail(wire::generic_error(
        404, "UnknownOperation",
        std::string(service.service_id) + " has no operation " + std::string(operation) + "."));
  }
  const OperationHandler* handler = operations_.find(service, op->name);
  if (!handler) {
    return fail(wire::generic_error(501, "NotImplemented",
                                    "mailtally does not implement " +
                                        std::string(service.service_id) + " " +
                                        std::string(op->name) + " (yet).",
                                    false));
  }
  auto doc = wire::decode_document(service, *op, input);
  if (!doc) return fail(map_validation(service, *op, doc.error()));
  const std::string request_id = base::uuid4();
  try {
    CallContext ctx{caller, request, request_id, service};
    auto out = (*handler)(ctx, *doc);
    if (!out) return fail(std::move(out).error());
    return out;
  } catch (const std::exception& ex) {
    return fail(wire::generic_error(500, "InternalFailure",
                                    std::string("internal error: ") + ex.what(), false));
  }
}

}  // namespace mailtally::services
