// What the delivery worker asks of an outgoing mail transport: hand one message to the next
// hop and say, per recipient, what happened. The SMTP relay (smtp_relay.hpp) implements it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailtally::relay {

struct Envelope {
  std::string mail_from;                // bare address; may be empty (null reverse path)
  std::vector<std::string> recipients;  // bare addresses
  std::string_view data;                // the message (header + body), any line endings
  bool require_tls = false;             // never send in plain text (TlsPolicy REQUIRE)
};

enum class Outcome {
  Delivered,  // the next hop took responsibility (2xx after the data)
  Permanent,  // 5xx for this recipient (or for the whole transaction)
  Transient,  // 4xx, or no answer at all: retry later
};

struct RecipientResult {
  Outcome outcome = Outcome::Transient;
  int code = 0;                // the SMTP reply code (421 for communication failures)
  std::string status;          // enhanced status code: from the reply, else derived ("5.0.0")
  std::string response;        // the reply as text: "550 5.1.1 user unknown"
  bool communication = false;  // no connection, timeout, dropped connection, bad protocol
};

struct SendResult {
  std::vector<RecipientResult> recipients;  // same order as Envelope::recipients
  std::string local_ip;                     // our address on the connection; "" when none
  std::string tls_version;                  // "TLSv1.3" when STARTTLS was used, else ""
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Blocks the calling thread for at most the transport's timeouts. Thread-safe.
  virtual SendResult send(const Envelope& envelope) = 0;
};

}  // namespace mailtally::relay
