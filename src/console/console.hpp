// The web console at /console: embedded static files, sign-in with an access key, and a JSON
// API for the single-page app. Every change goes through the same operation handlers as the
// AWS APIs (Gateway::call), so validation and error messages are the API's.
//
//   GET  /console/...                        embedded files (the app; no data in them)
//   GET  /console/api/session                who is signed in, and the CSRF token
//   POST /console/api/signin                 {"accessKeyId","secretAccessKey"} -> session cookie
//   POST /console/api/signout
//   POST /console/api/call/<svc>/<Operation> input document -> output document or AWS error
//                                            (<svc>: sesv2, ses, cloudwatch)
//   GET  /console/api/local/<path>           the /_mailtally/<path> local API (events, mailbox)
//   GET  /console/api/keys                   access keys (ids and names, never secrets)
//   POST /console/api/keys                   {"name"} -> a new key, its secret shown this once
//   DELETE /console/api/keys/<id>
//
// Security: everything under /console/api/ except signin needs the session cookie (401
// otherwise); every method other than GET/HEAD also needs X-CSRF-Token equal to the session's
// token and, when the browser sends Origin, an Origin naming this host (403 otherwise). The
// cookie is HttpOnly, SameSite=Strict, Path=/console and expires with the session.
//
// Thread-safe: handle() may run on several worker threads at once.
#pragma once

#include <functional>
#include <string>

#include "auth/sigv4.hpp"
#include "base/clock.hpp"
#include "console/sessions.hpp"
#include "domain/store.hpp"
#include "http/message.hpp"
#include "services/gateway.hpp"

namespace mailtally::console {

struct ConsoleDeps {
  const auth::CredentialSource& credentials;  // who may sign in (the API's keys)
  services::Gateway& gateway;                 // the operations
  domain::ConfigStore& keys;                  // access key management
  // A new random access key named `name` (not yet stored).
  std::function<domain::AccessKey(std::string name)> make_key;
  // Answers a /_mailtally/... request (the local API, GET only).
  std::function<http::Response(const http::Request&)> local_api;
  const base::Clock& clock;
};

class Console {
 public:
  // Every reference in `deps` must outlive the console.
  explicit Console(ConsoleDeps deps);

  static bool is_console_request(const http::Request& request);
  http::Response handle(const http::Request& request);

  SessionStore& sessions() { return sessions_; }

 private:
  http::Response serve_asset(const http::Request& request) const;
  http::Response api(const http::Request& request);
  http::Response sign_in(const http::Request& request);
  http::Response call(const http::Request& request, const Session& session, std::string_view rest);
  http::Response keys(const http::Request& request, const Session& session, std::string_view rest);
  http::Response local(const http::Request& request, std::string_view rest) const;

  ConsoleDeps deps_;
  SessionStore sessions_;
};

}  // namespace mailtally::console
