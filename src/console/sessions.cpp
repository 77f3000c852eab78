#include "console/sessions.hpp"

#include "base/crypto.hpp"

namespace mailtally::console {
namespace {

constexpr std::string_view kTokenAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Session SessionStore::create(std::string access_key_id) {
  Session s;
  s.id = base::random_token(43, kTokenAlphabet);  // 43 * 6 = 258 bits
  s.csrf_token = base::random_token(43, kTokenAlphabet);
  s.access_key_id = std::move(access_key_id);
  const auto now = clock_.now();
  s.expires = now + kLifetime;
  std::lock_guard lock(mu_);
  if (sessions_.size() >= kMaxSessions) evict_locked(now);
  sessions_[s.id] = s;
  return s;
}

std::optional<Session> SessionStore::find(std::string_view id) {
  const auto now = clock_.now();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::erase(std::string_view id) {
  std::lock_guard lock(mu_);
  if (auto it = sessions_.find(id); it != sessions_.end()) sessions_.erase(it);
}

void SessionStore::erase_key(std::string_view access_key_id) {
  std::lock_guard lock(mu_);
  std::erase_if(sessions_,
                [&](const auto& kv) { return kv.second.access_key_id == access_key_id; });
}

std::size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void SessionStore::evict_locked(base::TimePoint now) {
  std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires <= now; });
  while (sessions_.size() >= kMaxSessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.expires < oldest->second.expires) oldest = it;
    }
    sessions_.erase(oldest);
  }
}

std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view item = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(item.substr(0, eq)) == name) return trim(item.substr(eq + 1));
  }
  return std::nullopt;
}

}  // namespace mailtally::console
