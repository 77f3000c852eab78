// Web console sessions: an in-memory table of signed-in browsers. A session is created by a
// successful sign-in and holds the access key it signed in with and a CSRF token that every
// change must echo in a header. Sessions expire a fixed time after sign-in (no sliding renewal)
// and do not survive a restart (signing in again is cheap; nothing else is lost).
//
// Thread-safe: every method takes the one mutex.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"

namespace mailtally::console {

struct Session {
  std::string id;          // the cookie value: 256 random bits, base64url
  std::string csrf_token;  // 256 random bits, base64url; sent back in X-CSRF-Token
  std::string access_key_id;
  base::TimePoint expires;
};

class SessionStore {
 public:
  static constexpr std::chrono::hours kLifetime{12};
  static constexpr std::size_t kMaxSessions = 10000;

  // `clock` must outlive the store.
  explicit SessionStore(const base::Clock& clock) : clock_(clock) {}

  // A new session for `access_key_id`. When the table is full, expired sessions are dropped
  // first, then the one closest to expiry.
  Session create(std::string access_key_id);
  // The live session with this id; nullopt when unknown or expired (an expired one is erased).
  std::optional<Session> find(std::string_view id);
  void erase(std::string_view id);
  // Ends every session signed in with this key (the key was deleted).
  void erase_key(std::string_view access_key_id);
  std::size_t size() const;

 private:
  void evict_locked(base::TimePoint now);

  const base::Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Session, std::less<>> sessions_;
};

// The value of cookie `name` in a Cookie request header ("a=1; b=2"); nullopt when absent.
// Values are returned as sent (no unquoting or decoding).
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name);

}  // namespace mailtally::console
