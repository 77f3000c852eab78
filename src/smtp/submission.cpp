#include "smtp/submission.hpp"

#include <exception>
#include <string_view>

#include "base/crypto.hpp"
#include "smtp/password.hpp"

namespace mailtally::smtp {
namespace {

// A reply line carries no CR or LF (a reason text comes from the message or the store).
std::string one_line(std::string text) {
  for (auto& c : text) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return text;
}

}  // namespace

AuthResult check_credentials(const auth::CredentialSource& credentials, std::string_view region,
                             std::string_view username, std::string_view password,
                             std::string& identity) {
  if (username.empty() || password.empty()) return AuthResult::Invalid;
  std::optional<auth::Credential> key;
  try {
    key = credentials.find(username);
  } catch (const std::exception&) {
    return AuthResult::TemporaryFailure;
  }
  // Compute the expected password even for unknown keys, so both cost the same.
  std::string expected = smtp_password(key ? key->secret_access_key : std::string(40, 'x'), region);
  if (!key || !base::constant_time_equal(expected, password)) return AuthResult::Invalid;
  identity = key->name;
  return AuthResult::Ok;
}

std::string reply_for(const sending::SendError& error) {
  using K = sending::SendErrorKind;
  switch (error.kind) {
    case K::MessageRejected:
      return one_line("554 5.7.1 Message rejected: " + error.message);
    case K::InvalidParameter:
      return one_line("554 5.6.0 Transaction failed: " + error.message);
    case K::ConfigurationSetDoesNotExist:
      return one_line("554 5.3.0 Configuration set does not exist: " + error.message);
    case K::ConfigurationSetSendingPaused:
      return one_line("554 5.7.0 Sending paused for this configuration set: " + error.message);
    case K::AccountSendingPaused:
      return one_line("554 5.7.0 Sending paused for this account: " + error.message);
    default:
      // The message could not be stored (a storage failure): temporary, the client retries.
      return one_line("451 4.3.0 Local error, try again later: " + error.message);
  }
}

std::string submit_message(sending::Sender& sender, const Envelope& envelope, std::string message,
                           const SubmitFacts& facts) {
  sending::SendRequest r;
  r.operation = "SendSmtpEmail";
  r.max_message_bytes = facts.max_message_bytes;
  r.source = envelope.mail_from;
  r.to = envelope.rcpt_to;
  r.raw = std::move(message);
  r.caller_identity = facts.identity;
  r.source_ip = facts.source_ip;
  r.source_tls_version = facts.tls_version;
  try {
    auto id = sender.send(r);
    if (!id) return reply_for(id.error());
    return "250 Ok " + *id;
  } catch (const std::exception& e) {
    return one_line(std::string("451 4.3.0 Local error, try again later: ") + e.what());
  }
}

}  // namespace mailtally::smtp
