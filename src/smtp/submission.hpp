// The bridge from an SMTP session to the sending pipeline: checking AUTH credentials against the
// access keys, and handing an accepted message to sending::Sender exactly like SendRawEmail
// (operation "SendSmtpEmail"), mapping the outcome to the reply to DATA.
//
// Both functions may block on SQLite: smtp::Server calls them on its submit threads, never on
// its I/O threads. Thread-safe as far as the CredentialSource and Sender are (both are).
#pragma once

#include <string>

#include "auth/sigv4.hpp"
#include "sending/sender.hpp"
#include "smtp/session.hpp"

namespace mailtally::smtp {

// Username = access key id, password = smtp_password(secret, region). On success `identity` is
// the key's name (the ses:caller-identity auto-tag). Unknown keys and wrong passwords are both
// Invalid (no hint which); a throwing look-up is a TemporaryFailure.
AuthResult check_credentials(const auth::CredentialSource& credentials, std::string_view region,
                             std::string_view username, std::string_view password,
                             std::string& identity);

struct SubmitFacts {
  std::string identity;     // the authenticated key's name
  std::string source_ip;    // the client's address
  std::string tls_version;  // "TLSv1.3", ... or empty without TLS
  std::size_t max_message_bytes = 40 * 1024 * 1024;
};

// Sends `message` from the envelope's MAIL FROM to its RCPT TO addresses through `sender`;
// returns the reply line to DATA: "250 Ok <MessageId>" once the message is durable, or a 554
// (451 when storage failed) with the reason.
std::string submit_message(sending::Sender& sender, const Envelope& envelope, std::string message,
                           const SubmitFacts& facts);

// The DATA reply for a refused send (exposed for tests).
std::string reply_for(const sending::SendError& error);

}  // namespace mailtally::smtp
