#include "console/console.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>

#include "base/crypto.hpp"
#include "base/time_format.hpp"
#include "console/assets.hpp"
#include "wire/codec.hpp"

namespace mailtally::console {
namespace json = boost::json;
namespace {

constexpr std::string_view kPrefix = "/console/";
constexpr std::string_view kApiPrefix = "/console/api/";
constexpr std::string_view kCookieName = "mailtally_session";
constexpr std::size_t kMaxKeyNameLength = 64;

// The app's own files only; inline styles are needed by the chart library and by e-mail HTML
// shown in the sandboxed mailbox frame (which inherits this policy and adds its own).
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

void security_headers(http::Response& r) {
  r.headers.add("X-Content-Type-Options", "nosniff");
  r.headers.add("Referrer-Policy", "no-referrer");
  r.headers.add("X-Frame-Options", "DENY");
  r.headers.add("Content-Security-Policy", std::string(kContentSecurityPolicy));
}

http::Response json_reply(int status, const json::value& body) {
  http::Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.headers.add("Cache-Control", "no-store");
  r.body = json::serialize(body);
  return r;
}

http::Response error_reply(int status, std::string_view code, std::string_view message) {
  http::Response r =
      json_reply(status, json::object{{"__type", code}, {"code", code}, {"message", message}});
  r.headers.add("x-amzn-ErrorType", std::string(code));
  return r;
}

double epoch(base::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::string cookie(const http::Request& req, std::string_view value, std::chrono::seconds max_age) {
  std::string c =
      std::string(kCookieName) + "=" + std::string(value) +
      "; Path=/console; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age.count());
  if (req.tls) c += "; Secure";
  return c;
}

// A change must come from this site: the browser's Origin (when sent) must name this host, and
// Sec-Fetch-Site (when sent) must not say cross-site.
bool same_origin(const http::Request& req) {
  if (const std::string* site = req.headers.find("Sec-Fetch-Site")) {
    if (*site != "same-origin" && *site != "none") return false;
  }
  const std::string* origin = req.headers.find("Origin");
  if (!origin) return true;
  const std::string* host = req.headers.find("Host");
  if (!host) return false;
  return *origin == "http://" + *host || *origin == "https://" + *host;
}

std::optional<json::object> parse_object(const std::string& body) {
  if (body.empty()) return json::object();
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

bool is_json(const http::Request& req) {
  const std::string* ct = req.headers.find("Content-Type");
  return ct && ct->rfind("application/json", 0) == 0;
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const wire::Service* service_by_key(std::string_view key) {
  for (const wire::Service* s : wire::all_models()) {
    if (s->key == key) return s;
  }
  return nullptr;
}

bool valid_key_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxKeyNameLength) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '@' || c == ' ';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Console::Console(ConsoleDeps deps) : deps_(std::move(deps)), sessions_(deps_.clock) {}

bool Console::is_console_request(const http::Request& request) {
  std::string_view path = request.path();
  return path == "/console" || path.substr(0, kPrefix.size()) == kPrefix;
}

http::Response Console::handle(const http::Request& request) {
  http::Response r;
  std::string_view path = request.path();
  if (path == "/console") {
    r.status = 302;
    r.headers.add("Location", "/console/");
  } else if (path.substr(0, kApiPrefix.size()) == kApiPrefix) {
    try {
      r = api(request);
    } catch (const std::exception& e) {
      r = error_reply(500, "InternalFailure", std::string("internal error: ") + e.what());
    }
  } else {
    r = serve_asset(request);
  }
  security_headers(r);
  return r;
}

http::Response Console::serve_asset(const http::Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    http::Response r = error_reply(405, "MethodNotAllowed", "Only GET is supported here.");
    r.headers.add("Allow", "GET, HEAD");
    return r;
  }
  const Asset* asset = find_asset(request.path());
  if (!asset) return error_reply(404, "NotFound", "No such console page.");
  http::Response r;
  r.headers.add("ETag", std::string(asset->etag));
  r.headers.add("Cache-Control", "no-cache");
  if (const std::string* inm = request.headers.find("If-None-Match"); inm && *inm == asset->etag) {
    r.status = 304;
    return r;
  }
  r.headers.add("Content-Type", std::string(asset->content_type));
  r.body.assign(reinterpret_cast<const char*>(asset->data), asset->size);
  return r;
}

http::Response Console::api(const http::Request& request) {
  const std::string_view rest = request.path().substr(kApiPrefix.size());
  const bool change = request.method != "GET" && request.method != "HEAD";
  if (rest == "signin") {
    if (request.method != "POST") return error_reply(405, "MethodNotAllowed", "Use POST.");
    return sign_in(request);
  }

  std::optional<Session> session;
  if (const std::string* header = request.headers.find("Cookie")) {
    if (auto id = cookie_value(*header, kCookieName)) session = sessions_.find(*id);
  }
  // A key deleted since sign-in ends its sessions (within the credential cache's few seconds).
  if (session && !deps_.credentials.find(session->access_key_id)) {
    sessions_.erase(session->id);
    session.reset();
  }
  if (!session) return error_reply(401, "NotSignedIn", "Sign in to use the console.");
  if (change) {
    const std::string* token = request.headers.find("X-CSRF-Token");
    if (!token || !base::constant_time_equal(*token, session->csrf_token)) {
      return error_reply(403, "InvalidCsrfToken",
                         "This change lacks the console's CSRF token; reload the page.");
    }
    if (!same_origin(request)) {
      return error_reply(403, "CrossOriginRequest", "Changes must come from the console itself.");
    }
  }

  if (rest == "session") {
    if (change) return error_reply(405, "MethodNotAllowed", "Use GET.");
    auto cred = deps_.credentials.find(session->access_key_id);
    return json_reply(200,
                      json::object{{"accessKeyId", session->access_key_id},
                                   {"name", cred ? cred->name : std::string()},
                                   {"csrfToken", session->csrf_token},
                                   {"expiresAt", base::format_iso8601(epoch(session->expires))}});
  }
  if (rest == "signout") {
    if (request.method != "POST") return error_reply(405, "MethodNotAllowed", "Use POST.");
    sessions_.erase(session->id);
    http::Response r = json_reply(200, json::object{});
    r.headers.add("Set-Cookie", cookie(request, "", std::chrono::seconds(0)));
    return r;
  }
  if (rest.substr(0, 5) == "call/") return call(request, *session, rest.substr(5));
  if (rest == "keys" || rest.substr(0, 5) == "keys/")
    return keys(request, *session, rest.substr(4));
  if (rest.substr(0, 6) == "local/") {
    if (change) return error_reply(405, "MethodNotAllowed", "Use GET.");
    return local(request, request.target.substr(kApiPrefix.size() + 6));
  }
  return error_reply(404, "NotFound", "No such console endpoint.");
}

http::Response Console::sign_in(const http::Request& request) {
  if (!is_json(request)) {
    return error_reply(415, "UnsupportedMediaType", "Send the sign-in as application/json.");
  }
  if (!same_origin(request)) {
    return error_reply(403, "CrossOriginRequest", "Sign in from the console itself.");
  }
  auto body = parse_object(request.body);
  if (!body) return error_reply(400, "BadRequestException", "The body is not a JSON object.");
  const std::string id = str(*body, "accessKeyId");
  const std::string secret = str(*body, "secretAccessKey");
  auto cred = id.empty() ? std::nullopt : deps_.credentials.find(id);
  // Compare digests so the time taken tells nothing about the secret's length or content; an
  // unknown id still pays for one comparison.
  const std::string expected = cred ? cred->secret_access_key : std::string("\x01unknown key");
  const bool match = base::constant_time_equal(base::as_view(base::sha256(secret)),
                                               base::as_view(base::sha256(expected)));
  if (!cred || !match) {
    return error_reply(401, "InvalidCredentials",
                       "The access key ID or the secret access key is not right.");
  }
  Session s = sessions_.create(cred->access_key_id);
  http::Response r =
      json_reply(200, json::object{{"accessKeyId", s.access_key_id},
                                   {"name", cred->name},
                                   {"csrfToken", s.csrf_token},
                                   {"expiresAt", base::format_iso8601(epoch(s.expires))}});
  r.headers.add("Set-Cookie", cookie(request, s.id, SessionStore::kLifetime));
  return r;
}

http::Response Console::call(const http::Request& request, const Session& session,
                             std::string_view rest) {
  if (request.method != "POST") return error_reply(405, "MethodNotAllowed", "Use POST.");
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return error_reply(404, "NotFound", "Use /console/api/call/<service>/<Operation>.");
  }
  const wire::Service* service = service_by_key(rest.substr(0, slash));
  if (!service) {
    return error_reply(404, "NotFound", "Unknown service; use sesv2, ses or cloudwatch.");
  }
  auto input = parse_object(request.body);
  if (!input) return error_reply(400, "BadRequestException", "The body is not a JSON object.");
  auto cred = deps_.credentials.find(session.access_key_id);
  if (!cred) return error_reply(401, "NotSignedIn", "Sign in to use the console.");
  auth::Identity caller{*cred, "us-east-1", std::string(service->signing_name)};
  const std::string_view op_name = rest.substr(slash + 1);
  auto out = deps_.gateway.call(*service, op_name, caller, request, json::value(*input));
  if (!out) {
    const wire::ApiError& e = out.error();
    json::object body = e.fields;
    const std::string type = e.type_name.empty() ? e.code : e.type_name;
    body["__type"] = type;
    body["code"] = e.code;
    body["message"] = e.message;
    http::Response r = json_reply(e.http_status, body);
    r.headers.add("x-amzn-ErrorType", type);
    return r;
  }
  const wire::Operation* op = service->find_operation(op_name);
  if (!op || op->output == wire::kNoShape) return json_reply(200, json::object{});
  return json_reply(200, wire::to_wire_json(*service, op->output, json::value(std::move(*out)),
                                            /*body_only=*/false));
}

http::Response Console::keys(const http::Request& request, const Session& session,
                             std::string_view rest) {
  if (rest.empty() && (request.method == "GET" || request.method == "HEAD")) {
    json::array list;
    for (const auto& k : deps_.keys.list_access_keys()) {
      list.push_back(json::object{{"accessKeyId", k.access_key_id},
                                  {"name", k.name},
                                  {"createdAt", base::format_iso8601(k.created_at)},
                                  {"current", k.access_key_id == session.access_key_id}});
    }
    return json_reply(200, json::object{{"keys", std::move(list)}});
  }
  if (rest.empty() && request.method == "POST") {
    auto body = parse_object(request.body);
    if (!body) return error_reply(400, "BadRequestException", "The body is not a JSON object.");
    std::string name = str(*body, "name");
    if (name.empty()) name = "console";
    if (!valid_key_name(name)) {
      return error_reply(400, "BadRequestException",
                         "A key name has 1 to 64 letters, digits, spaces or - _ . @ characters.");
    }
    domain::AccessKey k = deps_.make_key(name);
    deps_.keys.put_access_key(k);  // committed before the secret is shown
    return json_reply(200, json::object{{"accessKeyId", k.access_key_id},
                                        {"secretAccessKey", k.secret_access_key},
                                        {"name", k.name},
                                        {"createdAt", base::format_iso8601(k.created_at)}});
  }
  if (rest.size() > 1 && rest[0] == '/' && request.method == "DELETE") {
    std::string_view id = rest.substr(1);
    if (id == session.access_key_id) {
      return error_reply(400, "KeyInUse",
                         "You are signed in with this key; sign in with another key to delete it.");
    }
    if (!deps_.keys.delete_access_key(id)) {
      return error_reply(404, "NotFoundException", "No access key with that ID.");
    }
    sessions_.erase_key(id);
    return json_reply(200, json::object{});
  }
  return error_reply(405, "MethodNotAllowed", "Use GET or POST /keys, DELETE /keys/<id>.");
}

http::Response Console::local(const http::Request& request, std::string_view rest) const {
  http::Request inner;
  inner.method = request.method;
  inner.target = "/_mailtally/" + std::string(rest);
  inner.remote_address = request.remote_address;
  http::Response r = deps_.local_api(inner);
  r.headers.add("Cache-Control", "no-store");
  return r;
}

}  // namespace mailtally::console
