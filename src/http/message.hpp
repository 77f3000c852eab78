// Transport-neutral HTTP request and response, the only HTTP types other modules see.
// Plain values: no ownership beyond their members, safe to move between threads.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
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

class Deferred;

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Set by a handler that answers later (see Deferred); the other members are then ignored.
  std::shared_ptr<Deferred> deferred;
};

// A response a handler finishes later, on another thread — e.g. once the batch transaction that
// holds the request's change has committed. The handler returns a Response whose `deferred` is
// set; the server parks the connection without blocking a worker thread and, once complete()
// was called, runs the finisher on that connection's worker thread to get the real response.
//
// Contract: complete() is called exactly once, from any thread, and always (also on failure and
// at shutdown: the server keeps its worker threads alive until every parked connection was
// completed). on_complete() is the server's side and is called at most once.
class Deferred {
 public:
  using Finisher = std::function<Response()>;

  void complete(Finisher finish);
  // `resume` runs exactly once with the finisher: at once on the calling thread when complete()
  // already happened, else on the thread that calls complete().
  void on_complete(std::function<void(Finisher)> resume);

 private:
  std::mutex mu_;
  bool done_ = false;
  Finisher finish_;                       // guarded by mu_ until handed to resume
  std::function<void(Finisher)> resume_;  // guarded by mu_
};

}  // namespace mailtally::http
