// Delivery through the SMTP relay (`mailtally serve --relay`): turns the relay's per-recipient
// answers into SES events (Delivery, Bounce Permanent, DeliveryDelay, Bounce Transient when
// the retry window ends) and into a deferral of the recipients to retry.
//
// Pure apart from relay::Transport::send (network I/O, bounded by the transport's timeouts).
// It runs outside any store transaction: the caller commits the returned completion afterwards,
// so a crash in between re-delivers (at least once, as SES).
#pragma once

#include <string>
#include <vector>

#include "domain/sending_store.hpp"
#include "relay/transport.hpp"

namespace mailtally::sending {

// When a recipient answered 4xx (or the relay could not be reached): try again after
// `initial` seconds, doubling up to `max`, until `window` seconds after the message was
// accepted; then it bounces (Transient).
struct RetryPolicy {
  double window = 4 * 3600.0;
  double initial = 60;
  double max = 900;
};

// Seconds to wait after the `attempts`-th deferred attempt (1-based).
double retry_delay(const RetryPolicy& p, int attempts);

// The address SES sends from: the bare address of the `mail` object's `source`.
std::string envelope_sender(std::string_view mail_json);

// The delayType for a temporary failure: TransientCommunicationFailure when the server could not
// be reached, MailboxFull (x.2.2), SpamDetected (x.7.1 or "spam" in the text), else General.
std::string delay_type_of(const relay::RecipientResult& r);

struct RelayAttempt {
  const domain::QueuedMessage& message;
  const std::vector<std::string>& recipients;          // the message's recipients for the relay
  const std::vector<std::string>& suppressed_reasons;  // effective; BOUNCE adds hard bounces
  std::string reporting_mta;
  RetryPolicy retry;
};

// Applies `result` (the transport's answer at `now`, epoch seconds) to `out`: appends events
// and suppression entries, and sets out.defer when recipients are to be retried.
void apply_relay_result(const RelayAttempt& a, const relay::SendResult& result, double now,
                        domain::SendingStore::Completion& out);

// The `mail` object with the delivery auto-tags `ses:outgoing-ip` and (when TLS was used)
// `ses:outgoing-tls-version` appended to its tags. Returns `mail_json` unchanged when it is
// not a JSON object.
std::string with_outgoing_tags(std::string_view mail_json, const std::string& ip,
                               const std::string& tls_version);

// The outgoing IP recorded for the mailbox simulator and the built-in mailbox: nothing leaves
// the host, so the loopback address.
inline constexpr const char* kLocalOutgoingIp = "127.0.0.1";

}  // namespace mailtally::sending
