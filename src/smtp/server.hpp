// The SMTP submission server (docs/smtp.md): a STARTTLS port and an optional implicit-TLS port on
// Boost.Asio + OpenSSL, one smtp::Session per connection, authenticated sends handed to
// sending::Sender.
//
// Threading: `io_threads` threads run every connection's I/O (each connection is a coroutine on
// its own strand); AUTH look-ups and Sender::send run on `submit_threads` other threads, so a
// slow SQLite commit never stalls other sessions' I/O. The reply to DATA's "." is written only
// after Sender::send returned (the message and its Send event are committed). A connection that
// drops before the "." submits nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "smtp/options.hpp"

namespace mailtally::auth {
class CredentialSource;
}
namespace mailtally::sending {
class Sender;
}

namespace mailtally::smtp {

class Server {
 public:
  // `credentials` and `sender` must outlive the server. `data_dir` holds the self-signed
  // certificate when no certificate is configured.
  Server(Options options, std::string data_dir, const auth::CredentialSource& credentials,
         sending::Sender& sender);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads (or creates) the certificate, binds the enabled ports and starts the threads. Throws
  // std::runtime_error when a port cannot be bound or the certificate cannot be loaded.
  void start();
  std::uint16_t port() const;      // the STARTTLS port (0 when disabled); valid after start()
  std::uint16_t tls_port() const;  // the implicit-TLS port (0 when disabled)
  // The certificate in use (configured, or the self-signed one).
  const std::string& certificate_file() const;

  // Stops accepting; idle sessions get "421 4.3.2" and close, a session in the middle of a
  // message may finish it until `grace` ends, then everything left is closed and the threads
  // joined (a running Sender::send completes first). Safe to repeat; the destructor calls it.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));

  std::size_t session_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailtally::smtp
