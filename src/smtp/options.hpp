// Settings of the SMTP submission interface (docs/smtp.md). Plain data: the command line and
// the config file fill it in, smtp::Server reads it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace mailtally::smtp {

// SES's limits for SMTP: 50 recipients, 40 MB per message (spec 5.1).
inline constexpr std::size_t kDefaultMaxRecipients = 50;
inline constexpr std::size_t kDefaultMaxMessageBytes = 40 * 1024 * 1024;
// RFC 5321 4.5.3.1.4 allows 512 octets per command line; AUTH lines and long paths go beyond
// that in practice, so command lines may have up to 1000 octets including CRLF (the RFC's text
// line limit). DATA lines have no limit of their own, only the message size.
inline constexpr std::size_t kDefaultMaxCommandLine = 1000;

struct Options {
  bool enabled = false;  // the STARTTLS port (smtp_listen / --smtp-listen)
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;    // 0: an ephemeral port, see Server::port()
  bool tls_enabled = false;  // the implicit-TLS port (smtp_tls_listen / --smtp-tls-listen)
  std::string tls_host = "127.0.0.1";
  std::uint16_t tls_port = 0;

  // PEM files; both empty: a self-signed pair created (once) in the data dir.
  std::string tls_cert_file, tls_key_file;
  std::string hostname;  // in the greeting and EHLO reply; empty: the machine's host name
  std::string region = "us-east-1";  // the region SMTP passwords are derived for

  std::size_t max_sessions = 100;  // sessions beyond are answered 421 and closed
  std::size_t max_recipients = kDefaultMaxRecipients;
  std::size_t max_message_bytes = kDefaultMaxMessageBytes;
  std::size_t max_command_line = kDefaultMaxCommandLine;  // octets including CRLF
  unsigned max_auth_failures = 3;  // the Nth failed AUTH of a session closes it (421)
  unsigned max_errors = 20;        // syntax/sequence errors before 421 and close
  std::chrono::milliseconds idle_timeout{300000};    // waiting for any byte from the client
  std::chrono::milliseconds command_timeout{60000};  // one command line, first byte to CRLF
  // AUTH without TLS is refused unless this is set and the client connects from loopback.
  bool allow_plain_auth_on_loopback = false;
  unsigned io_threads = 2;      // Asio threads running the sessions' I/O
  unsigned submit_threads = 4;  // threads running AUTH look-ups and Sender::send
};

}  // namespace mailtally::smtp
