// Accepting a send: validation (recipients, sizes, addresses, sandbox, configuration set,
// tags), building or reading the MIME message, the message's tags and `mail` record, and the
// durable enqueue of the message with its Send event (one transaction) — all before the
// MessageId is returned. Protocol-free: services/ses_send.cpp maps requests and errors.
//
// Threading: send() may be called from any number of threads at once. The stores and clock
// must outlive the Sender; `on_enqueued` runs on the calling thread after each commit (it
// should only wake the delivery worker).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/expected.hpp"
#include "domain/control_plane.hpp"
#include "domain/publishing.hpp"
#include "domain/sending_store.hpp"
#include "domain/store.hpp"
#include "sending/mime_build.hpp"
#include "sending/quota.hpp"

namespace mailtally::sending {

inline constexpr std::size_t kMaxRecipients = 50;
inline constexpr std::size_t kMaxMessageBytesV1 = 10 * 1024 * 1024;
inline constexpr std::size_t kMaxMessageBytesV2 = 40 * 1024 * 1024;

struct SimpleBody {
  TextPart subject;
  std::optional<TextPart> text, html;
  std::vector<std::pair<std::string, std::string>> headers;  // v2 Simple.Headers
};

struct SendRequest {
  std::string operation;  // ses:operation value: SendEmail, SendRawEmail, SendSmtpEmail
  std::size_t max_message_bytes = kMaxMessageBytesV1;
  std::optional<std::string> source;     // v1 Source / v2 FromEmailAddress
  std::vector<std::string> to, cc, bcc;  // Destination (raw: Destinations go in `to`)
  std::vector<std::string> reply_to;
  std::optional<SimpleBody> simple;  // exactly one of simple / raw
  std::optional<std::string> raw;    // raw message bytes
  std::optional<std::string> configuration_set;
  std::vector<domain::MessageTag> tags;  // API tags
  std::string caller_identity;           // the access key's name
  std::string source_ip;
  // Set by sending/templated_send.cpp when the template data cannot fill the template: the send
  // is validated as usual, then stored finished (never delivered) with a Rendering Failure
  // event instead of its Send event.
  struct RenderingFailure {
    std::string template_name;
    std::string error_message;
  };
  std::optional<RenderingFailure> rendering_failure;
  std::string source_tls_version;  // "TLSv1.3" when the caller used TLS (SMTP); else empty
};

enum class SendErrorKind {
  MessageRejected,
  InvalidParameter,
  ConfigurationSetDoesNotExist,
  ConfigurationSetSendingPaused,
  AccountSendingPaused,
  Internal,             // the message could not be stored (the caller answers a server error)
  MaxSendRateExceeded,  // SendQuota: over the maximum send rate
  DailyQuotaExceeded,   // SendQuota: over the maximum sends per 24 hours
};

struct SendError {
  SendErrorKind kind;
  std::string message;
  std::string configuration_set;
};

// Changes the final message before it is stored (open/click tracking, src/tracking/).
// Called once per accepted send, from the sending thread; implementations are thread-safe.
class MessageInstrumenter {
 public:
  virtual ~MessageInstrumenter() = default;
  // The message to store and deliver: `raw` itself when nothing applies.
  virtual std::string instrument(std::string_view message_id, std::string_view configuration_set,
                                 std::string raw) = 0;
};

class Sender {
 public:
  Sender(domain::ConfigStore& config, domain::SendingStore& store, const base::Clock& clock,
         domain::AccountSettings account, std::function<void()> on_enqueued = {});

  // Set before the first send; `instrumenter` must outlive the Sender (nullptr: none).
  void set_instrumenter(MessageInstrumenter* instrumenter) { instrumenter_ = instrumenter; }

  // The MessageId once the message and its Send event are committed.
  base::Expected<std::string, SendError> send(const SendRequest& request);
  // Enforces `quota` on every later send (nullptr: none). Set before serving; not owned.
  void set_quota(SendQuota* quota) { quota_ = quota; }

  // send() without waiting for the commit: validation and MIME work run on the calling thread,
  // then `done` runs once with the MessageId after the commit, or with the error — on the
  // calling thread for a refused request, else on the store's commit thread (keep it short).
  using SendDone = std::function<void(base::Expected<std::string, SendError>)>;
  void send_async(const SendRequest& request, SendDone done);

 private:
  // A validated message ready to be committed with its events.
  struct Accepted {
    domain::QueuedMessage message;
    std::vector<domain::NewEvent> events;
    double now = 0;
  };
  base::Expected<Accepted, SendError> accept(const SendRequest& request);

  domain::ConfigStore& config_;
  domain::SendingStore& store_;
  const base::Clock& clock_;
  domain::AccountSettings account_;
  std::function<void()> on_enqueued_;
  MessageInstrumenter* instrumenter_ = nullptr;
  SendQuota* quota_ = nullptr;
};

}  // namespace mailtally::sending
