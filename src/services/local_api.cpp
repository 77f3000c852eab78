#include "services/local_api.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <map>

#include "base/time_format.hpp"
#include "services/local_json.hpp"

namespace mailtally::services {
namespace json = boost::json;

http::Response json_reply(int status, const json::value& body) {
  http::Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.body = json::serialize(body);
  return r;
}

http::Response json_error(int status, std::string message) {
  return json_reply(status, json::object{{"message", std::move(message)}});
}

namespace {

constexpr std::size_t kDefaultLimit = 100;
constexpr std::size_t kMaxLimit = 1000;

std::optional<std::int64_t> number(const std::map<std::string, std::string>& p,
                                   const std::string& key, std::int64_t fallback) {
  auto it = p.find(key);
  if (it == p.end() || it->second.empty()) return fallback;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc() || end != it->second.data() + it->second.size() || v < 0) {
    return std::nullopt;
  }
  return v;
}

std::optional<std::string> opt(const std::map<std::string, std::string>& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

json::value parse_or_string(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(text) : v;
}

http::Response events(domain::SendingStore& store, const std::map<std::string, std::string>& p) {
  auto after = number(p, "after", 0);
  auto limit = number(p, "limit", kDefaultLimit);
  if (!after || !limit) return json_error(400, "after and limit must be non-negative integers");
  domain::EventFilter f;
  f.after = *after;
  f.limit = std::min<std::size_t>(static_cast<std::size_t>(*limit), kMaxLimit);
  f.configuration_set = opt(p, "configuration_set");
  f.event_type = opt(p, "type");
  f.message_id = opt(p, "message_id");
  json::array list;
  std::int64_t last = f.after;
  for (const auto& e : store.events(f)) {
    last = e.seq;
    list.push_back(json::object{{"seq", e.seq},
                                {"messageId", e.message_id},
                                {"configurationSet", e.configuration_set},
                                {"eventType", e.event_type},
                                {"createdAt", base::format_iso8601(e.created_at)},
                                {"record", parse_or_string(e.record)}});
  }
  return json_reply(200, json::object{{"events", std::move(list)}, {"next_after", last}});
}

http::Response mailbox(domain::SendingStore& store, const std::map<std::string, std::string>& p) {
  auto limit = number(p, "limit", kDefaultLimit);
  if (!limit) return json_error(400, "limit must be a non-negative integer");
  json::array list;
  for (const auto& m : store.mailbox(
           opt(p, "to"), std::min<std::size_t>(static_cast<std::size_t>(*limit), kMaxLimit))) {
    json::object o{{"id", m.id},
                   {"messageId", m.message_id},
                   {"recipient", m.recipient},
                   {"deliveredAt", base::format_iso8601(m.delivered_at)}};
    json::value mail = parse_or_string(m.mail);
    if (mail.is_object()) {
      if (const auto* c = mail.as_object().if_contains("commonHeaders")) o["commonHeaders"] = *c;
      if (const auto* s = mail.as_object().if_contains("source")) o["source"] = *s;
    }
    list.push_back(std::move(o));
  }
  return json_reply(200, json::object{{"messages", std::move(list)}});
}

}  // namespace

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> query_params(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view item = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    out[percent_decode(item.substr(0, eq))] =
        eq == std::string_view::npos ? std::string() : percent_decode(item.substr(eq + 1));
  }
  return out;
}

bool is_local_api_request(const http::Request& request) {
  return request.path().substr(0, kLocalApiPrefix.size()) == kLocalApiPrefix;
}

http::Response handle_local_api(domain::SendingStore& store, const http::Request& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    http::Response r = json_error(405, "only GET is supported here");
    r.headers.add("Allow", "GET, HEAD");
    return r;
  }
  std::string path = percent_decode(request.path());
  auto params = query_params(request.query());
  try {
    if (path == "/_mailtally/events") return events(store, params);
    if (path == "/_mailtally/mailbox") return mailbox(store, params);
    constexpr std::string_view kOne = "/_mailtally/mailbox/";
    if (path.size() > kOne.size() && path.compare(0, kOne.size(), kOne) == 0) {
      auto entry = store.mailbox_message(std::string_view(path).substr(kOne.size()));
      if (!entry) return json_error(404, "no mailbox message with that id");
      http::Response r;
      r.headers.add("Content-Type", "message/rfc822");
      r.body = std::move(entry->raw);
      return r;
    }
  } catch (const std::exception& e) {
    return json_error(500, std::string("store error: ") + e.what());
  }
  return json_error(404, "not found");
}

}  // namespace mailtally::services
