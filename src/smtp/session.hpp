// The SMTP protocol of one connection (RFC 5321 with RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 2920
// PIPELINING, RFC 2034 ENHANCEDSTATUSCODES, RFC 3207 STARTTLS and RFC 4954 AUTH PLAIN / LOGIN),
// as pure code: bytes in, replies and actions out. No I/O, no clock, no threads — the caller
// (smtp::Server, the unit tests, the fuzzer) does the reading, writing, TLS, credential look-up
// and submission, and reports their results back.
//
// Use:   Session s(setup);  write(s.greeting());
//        loop { Action a = s.next(); write(a.output);
//               switch (a.kind) { Read: s.receive(bytes) ... StartTls: handshake, s.tls_started()
//                                 Authenticate: look up, s.authenticated(...)
//                                 Submit: send, s.submitted(reply)   Close: close } }
// After an Authenticate or Submit action, the matching result call must come before the next
// next(). Not thread-safe: one connection, one thread at a time.
//
// Policies (docs/smtp.md): AUTH is required before MAIL (530 5.7.0), AUTH needs TLS unless
// `auth_without_tls`; a command line longer than the limit is answered 500 5.5.2 and skipped;
// DATA ends only at CRLF "." CRLF (a "." line next to a bare LF is content, which keeps SMTP
// smuggling out; stuffed dots are removed after CRLF and after bare LF); a message over the size
// limit is read to its end and answered 552 5.3.4 (past twice the limit the session answers at once
// and closes).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailtally::smtp {

struct SessionSetup {
  std::string hostname = "localhost";
  std::size_t max_recipients = 50;
  std::size_t max_message_bytes = 40 * 1024 * 1024;  // after dot-unstuffing
  std::size_t max_command_line = 1000;               // octets including CRLF
  unsigned max_auth_failures = 3;
  unsigned max_errors = 20;
  bool tls_available = true;      // STARTTLS can be offered
  bool tls_active = false;        // implicit TLS: encrypted from the start
  std::string tls_version;        // with tls_active: "TLSv1.3", ...
  bool auth_without_tls = false;  // AUTH allowed on a plain-text connection
};

struct Envelope {
  std::string mail_from;             // the reverse-path address, without < >
  std::vector<std::string> rcpt_to;  // forward-path addresses, in order
};

struct Action {
  enum class Kind {
    Read,          // write `output`, then read more bytes and receive() them
    StartTls,      // write `output` (the 220), then do the server-side TLS handshake
    Authenticate,  // check `username` / `password`, then authenticated()
    Submit,        // submit `envelope` + `message`, then submitted()
    Close,         // write `output`, then close the connection
  };
  Kind kind = Kind::Read;
  std::string output;  // complete reply lines, CRLF-terminated; may be empty
  std::string username, password;
  Envelope envelope;
  std::string message;  // the DATA, dot-unstuffed, line ends as the client sent them
};

enum class AuthResult { Ok, Invalid, TemporaryFailure };

class Session {
 public:
  explicit Session(SessionSetup setup);

  // "220 <hostname> ESMTP mailtally\r\n".
  std::string greeting() const;

  // Appends bytes read from the client.
  void receive(std::string_view bytes);

  // Processes buffered input until an action is needed.
  Action next();

  // Results of the actions.
  void tls_started(std::string version);  // the handshake succeeded ("TLSv1.3", ...)
  void authenticated(AuthResult result, std::string identity = {});
  void submitted(std::string reply_line);  // e.g. "250 Ok <id>"; CRLF is added

  // A command line has started but not ended (the server's command timeout applies).
  bool partial_command() const;
  // Complete command lines taken so far (tells the server a partial line is a new one).
  std::size_t lines_taken() const { return lines_taken_; }
  bool in_data() const { return phase_ == Phase::Data; }
  bool closed() const { return phase_ == Phase::Closed; }
  bool tls_active() const { return tls_active_; }
  const std::string& tls_version() const { return tls_version_; }
  const std::string& identity() const { return identity_; }  // empty before AUTH succeeded
  // Bytes buffered and not yet processed (bounded by one read plus one command line).
  std::size_t buffered() const { return in_.size() - pos_; }

 private:
  enum class Phase { Command, AuthPlain, AuthLoginUser, AuthLoginPassword, Data, Waiting, Closed };
  enum class DataState { Text, LineStart, Dot, DotCr };

  bool take_line(std::string& line, std::string& out);
  void command(std::string_view line, Action& action);
  void auth_response(std::string_view line, Action& action);
  // Returns true when the end of DATA was found (action filled in).
  bool data(Action& action);
  void reply(std::string& out, std::string_view line);
  void error(Action& action, std::string_view line);  // a 5xx that counts towards max_errors
  void reset_transaction();
  void do_ehlo(std::string_view args, Action& a, bool extended);
  void do_auth(std::string_view args, Action& a);
  void do_mail(std::string_view args, Action& a);
  void do_rcpt(std::string_view args, Action& a);
  void do_data(std::string_view args, Action& a);
  void check_plain(std::string_view decoded, Action& a);

  SessionSetup setup_;
  Phase phase_ = Phase::Command;
  std::string in_;
  std::size_t pos_ = 0;
  bool discarding_line_ = false;  // skipping the rest of an over-long command line
  std::size_t lines_taken_ = 0;

  bool greeted_ = false;
  bool tls_active_ = false;
  std::string tls_version_;
  std::string identity_;
  unsigned auth_failures_ = 0;
  unsigned errors_ = 0;
  std::string login_user_;
  std::string pending_output_;  // replies of results, sent with the next action

  bool has_mail_ = false;
  Envelope envelope_;

  DataState data_state_ = DataState::LineStart;
  bool data_line_crlf_ = true;  // the line just ended with CRLF (not a bare LF)
  bool data_last_cr_ = false;   // the last byte kept was a CR
  std::string message_;
  std::size_t data_bytes_ = 0;  // unstuffed bytes seen, kept or not
  bool oversize_ = false;
};

// Parses an SMTP path argument ("<a@b>", "<>", "<@r1,@r2:a@b>", or a bare "a@b") followed by
// optional ESMTP parameters. Exposed for tests. nullopt on bad syntax.
struct PathArgument {
  std::string address;                                      // empty for the null path "<>"
  std::vector<std::pair<std::string, std::string>> params;  // keyword (upper case), value
};
std::optional<PathArgument> parse_path_argument(std::string_view text);

}  // namespace mailtally::smtp
