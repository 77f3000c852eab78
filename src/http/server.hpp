// The HTTP/1.1 server: one port for every API, the tracking links and the console.
//
// Threading: `Server` owns an io_context run by `threads` worker threads. The handler is called on
// a worker thread, possibly on several at once, and must be thread-safe. It runs synchronously;
// while it runs, that worker serves nothing else.
//
// Protocol: HTTP/1.1 keep-alive (HTTP/1.0 only with "Connection: keep-alive"), pipelined requests
// answered in order, "Expect: 100-continue" answered. A body over max_body_bytes gets 413, a head
// over max_header_bytes 431, anything unparsable 400; each of those closes the connection without
// calling the handler. The server sets Content-Length itself (none for 1xx, 204 and 304, whose
// bodies are dropped), drops the handler's Transfer-Encoding and Connection headers (but honours
// "Connection: close"), adds Date and "Server: mailtally" when absent, sends no body for HEAD,
// and answers 500 when the handler throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/message.hpp"

namespace mailtally::http {

// Timeouts are enforced by a sweep every quarter of the shortest one (5 to 250 ms), so they may
// fire that much late; zero or negative disables a timeout.
struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;                         // 0: an ephemeral port; see Server::port()
  unsigned threads = 0;                           // 0: one per hardware thread
  std::size_t max_body_bytes = 48 * 1024 * 1024;  // SES v2 allows 40 MB messages (+base64)
  std::size_t max_header_bytes = 64 * 1024;
  std::chrono::milliseconds header_timeout{10000};  // to receive a complete request head
  std::chrono::milliseconds body_timeout{60000};    // to receive the body after the head; also
                                                    // to write one response
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive connection with no request
  std::size_t max_connections = 10000;              // accepted beyond this are closed at once
};

using Handler = std::function<Response(Request&)>;

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds (SO_REUSEADDR), listens and starts the workers; throws std::runtime_error if the
  // address cannot be bound. Call at most once: a stopped server cannot be started again.
  void start();
  // The bound port (useful with port 0). Valid after start().
  std::uint16_t port() const;
  // Stops accepting and closes idle connections at once; a connection in the middle of a request
  // finishes it (answered with "Connection: close") and closes. Whatever is still open after
  // `grace` is closed, then the worker threads are joined (a handler still running delays that).
  // Safe without start() and when repeated; the destructor calls it. Not from a worker thread.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));
  // Number of open connections (for metrics and tests).
  std::size_t connection_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailtally::http
