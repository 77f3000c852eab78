// An SMTP client that hands each message to one configured server (the "smart host"):
// `smtp://[user:pass@]HOST:PORT[?starttls=required]`. One connection per message: greeting,
// EHLO (HELO when EHLO is refused), STARTTLS when offered (required with starttls=required;
// the certificate is not verified: TLS protects against eavesdropping only), AUTH PLAIN or
// LOGIN when credentials are given, MAIL FROM, one RCPT TO per recipient, DATA, QUIT.
//
// Threading: send() may run on several threads at once; each call has its own io_context and
// connection. Every network step (resolve, connect, each read and write, the TLS handshake)
// has its own timeout, so a call returns within a bounded time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "relay/transport.hpp"

namespace mailtally::relay {

struct RelayConfig {
  std::string host;
  std::uint16_t port = 25;
  std::string user, password;  // empty user: no AUTH
  bool require_starttls = false;
};

// Parses the relay URL; nullopt (with `error` set) when it is not one.
std::optional<RelayConfig> parse_relay_url(std::string_view url, std::string& error);

struct SmtpRelayOptions {
  std::string helo_name;                     // EHLO argument: this host's name
  std::chrono::milliseconds timeout{30000};  // per network step
};

class SmtpRelay final : public Transport {
 public:
  SmtpRelay(RelayConfig config, SmtpRelayOptions options);
  SendResult send(const Envelope& envelope) override;

 private:
  RelayConfig config_;
  SmtpRelayOptions options_;
};

// The message as DATA content: CRLF line endings, leading dots doubled, ending in CRLF "."
// CRLF.
std::string dot_stuff(std::string_view data);

}  // namespace mailtally::relay
