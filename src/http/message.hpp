// Transport-neutral HTTP request and response, the only HTTP types other modules see.
// Plain values: no ownership beyond their members, safe to move between threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtally::http {

// Header list in arrival order; lookups are case-insensitive (RFC 9110).
class Headers {
 public:
  void add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  // First value of the header, or nullptr.
  const std::string* find(std::string_view name) const;
  // All values of the header, joined with "," (as SigV4 canonicalization wants).
  std::string joined(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  void set(std::string name, std::string value);
  // Removes every header but keeps the storage (the server reuses one Request per connection).
  void clear() { items_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

bool iequals(std::string_view a, std::string_view b);

struct Request {
  std::string method;  // upper case as sent: GET, POST, ...
  std::string target;  // raw request-target: path plus optional ?query, still percent-encoded
  Headers headers;
  std::string body;            // complete body (already size-limited by the server)
  std::string remote_address;  // peer IP without port
  bool tls = false;

  std::string_view path() const;   // target up to '?', still encoded
  std::string_view query() const;  // after '?', still encoded; empty when absent
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
};

}  // namespace mailtally::http
