// Open and click tracking (spec section 7): instruments the HTML of messages whose
// configuration set has an enabled event destination for Open and/or Click events, and serves
// the tracking endpoints on the API port:
//   GET /t/o/<token>  the 1x1 GIF open pixel: 200 image/gif, records an Open event
//   GET /t/c/<token>  a tracked link: 302 to the original URL, records a Click event
// Both answer Cache-Control: no-store. A token that does not verify (forged, altered, wrong
// kind, unknown message) gets 404 and records nothing. HEAD answers like GET without recording.
// Every GET records one event (repeated opens and clicks each count, as in SES), appended with
// the message's `mail` object and configuration set in one transaction; the event dispatcher
// publishes it. Events are recorded for 60 days after the send (the SES collection window);
// later hits still redirect or return the pixel. docs/tracking.md describes links and tokens.
//
// Threading: instrument() and handle() may run on any number of threads at once. The stores
// and clock must outlive the Tracker; set_base_url() before the first send.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "domain/sending_store.hpp"
#include "domain/store.hpp"
#include "http/message.hpp"
#include "sending/sender.hpp"

namespace mailtally::tracking {

inline constexpr std::string_view kOpenPath = "/t/o/";
inline constexpr std::string_view kClickPath = "/t/c/";
inline constexpr double kCollectionWindowSeconds = 60.0 * 86400;

class Tracker final : public sending::MessageInstrumenter {
 public:
  // `secret`: the HMAC key of the tokens (SendingStore::server_secret("tracking", ...)).
  Tracker(domain::ConfigStore& config, domain::SendingStore& store, const base::Clock& clock,
          std::string secret);

  // The scheme://host[:port][/path] tracking links start with, when the configuration set has
  // no CustomRedirectDomain; asked once per instrumented message.
  void set_base_url(std::function<std::string()> base_url) { base_url_ = std::move(base_url); }

  std::string instrument(std::string_view message_id, std::string_view configuration_set,
                         std::string raw) override;

  static bool is_tracking_request(const http::Request& request);
  http::Response handle(const http::Request& request);

 private:
  domain::ConfigStore& config_;
  domain::SendingStore& store_;
  const base::Clock& clock_;
  std::string secret_;
  std::function<std::string()> base_url_;
};

// The client address an event records: the connection's peer, or, when the peer is a loopback
// address (a reverse proxy on the same host), the last address of X-Forwarded-For when it is
// an IP address (the one that proxy added).
std::string client_ip(const http::Request& request);

// "http://HOST:PORT" for a listen address; wildcard hosts become the loopback address.
std::string default_base_url(std::string_view host, unsigned port);

}  // namespace mailtally::tracking
