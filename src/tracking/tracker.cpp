#include "tracking/tracker.hpp"

#include <arpa/inet.h>

#include <chrono>

#include "sending/event_record.hpp"
#include "sending/mime_rewrite.hpp"
#include "tracking/link_rewriter.hpp"
#include "tracking/token.hpp"

namespace mailtally::tracking {
namespace {

// A transparent 1x1 GIF89a (43 bytes).
constexpr unsigned char kPixel[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

double epoch(base::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

bool is_ip(std::string_view s) {
  std::string text(s);
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool is_loopback(std::string_view a) {
  return a.starts_with("127.") || a == "::1" || a.starts_with("::ffff:127.");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

http::Response not_found() {
  http::Response r;
  r.status = 404;
  r.headers.add("Content-Type", "text/plain; charset=utf-8");
  r.headers.add("Cache-Control", "no-store");
  r.body = "not found\n";
  return r;
}

}  // namespace

Tracker::Tracker(domain::ConfigStore& config, domain::SendingStore& store, const base::Clock& clock,
                 std::string secret)
    : config_(config), store_(store), clock_(clock), secret_(std::move(secret)) {}

std::string Tracker::instrument(std::string_view message_id, std::string_view configuration_set,
                                std::string raw) {
  if (configuration_set.empty()) return raw;
  auto rec = config_.get_configuration_set(std::string(configuration_set));
  if (!rec) return raw;
  RewriteOptions options;
  for (const auto& d : rec->destinations) {
    if (!d.enabled) continue;
    for (auto t : d.matching_event_types) {
      options.open = options.open || t == domain::EventType::Open;
      options.click = options.click || t == domain::EventType::Click;
    }
  }
  if (!options.open && !options.click) return raw;
  // A custom redirect domain is reached over HTTPS (the stored TrackingOptions have no
  // HttpsPolicy); otherwise the server's own base URL.
  std::string base = rec->set.custom_redirect_domain
                         ? "https://" + *rec->set.custom_redirect_domain
                         : (base_url_ ? base_url_() : std::string("http://127.0.0.1:4580"));
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string id(message_id);
  options.open_url =
      base + std::string(kOpenPath) + encode_token(secret_, Token{TokenKind::Open, id, {}, {}});
  options.click_url = [&](const TrackedLink& link) {
    return base + std::string(kClickPath) +
           encode_token(secret_, Token{TokenKind::Click, id, link.url, link.tags});
  };
  auto rewritten =
      sending::rewrite_html_parts(raw, [&](std::string_view html) -> std::optional<std::string> {
        auto r = rewrite_html(html, options);
        if (!r.changed) return std::nullopt;
        return std::move(r.html);
      });
  return rewritten ? std::move(*rewritten) : std::move(raw);
}

bool Tracker::is_tracking_request(const http::Request& request) {
  std::string_view path = request.path();
  return path.starts_with(kOpenPath) || path.starts_with(kClickPath);
}

http::Response Tracker::handle(const http::Request& request) {
  std::string_view path = request.path();
  bool click = path.starts_with(kClickPath);
  if (request.method != "GET" && request.method != "HEAD") {
    http::Response r;
    r.status = 405;
    r.headers.add("Allow", "GET, HEAD");
    r.headers.add("Content-Type", "text/plain; charset=utf-8");
    r.body = "method not allowed\n";
    return r;
  }
  std::string_view text = path.substr(click ? kClickPath.size() : kOpenPath.size());
  auto token = decode_token(secret_, text);
  if (!token || token->kind != (click ? TokenKind::Click : TokenKind::Open)) return not_found();

  if (request.method == "GET") {
    sending::EngagementFacts facts;
    facts.timestamp = epoch(clock_.now());
    facts.ip_address = client_ip(request);
    if (const auto* ua = request.headers.find("User-Agent")) facts.user_agent = *ua;
    facts.link = token->link;
    facts.link_tags = token->tags;
    bool found = store_.append_message_events(
        token->message_id,
        [&](std::string_view mail, double created_at) {
          std::vector<domain::NewEvent> events;
          if (facts.timestamp - created_at > kCollectionWindowSeconds) return events;
          if (click) {
            events.push_back({"Click", sending::click_record(mail, facts)});
          } else {
            events.push_back({"Open", sending::open_record(mail, facts)});
          }
          return events;
        },
        facts.timestamp);
    if (!found) return not_found();
  }
  http::Response r;
  r.headers.add("Cache-Control", "no-store");
  if (click) {
    r.status = 302;
    r.headers.add("Location", token->link);
    r.headers.add("Content-Type", "text/plain; charset=utf-8");
    r.body = "Redirecting to " + token->link + "\n";
  } else {
    r.status = 200;
    r.headers.add("Content-Type", "image/gif");
    r.body.assign(reinterpret_cast<const char*>(kPixel), sizeof kPixel);
  }
  return r;
}

std::string client_ip(const http::Request& request) {
  if (is_loopback(request.remote_address)) {
    std::string joined = request.headers.joined("X-Forwarded-For");
    std::size_t comma = joined.rfind(',');
    std::string_view last =
        trim(std::string_view(joined).substr(comma == std::string::npos ? 0 : comma + 1));
    if (is_ip(last)) return std::string(last);
  }
  return request.remote_address;
}

std::string default_base_url(std::string_view host, unsigned port) {
  std::string h(host);
  if (h.empty() || h == "0.0.0.0") h = "127.0.0.1";
  if (h == "::") h = "::1";
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return "http://" + h + ":" + std::to_string(port);
}

}  // namespace mailtally::tracking
