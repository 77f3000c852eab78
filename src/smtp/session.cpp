#include "smtp/session.hpp"

#include <algorithm>
#include <cstring>

#include "base/crypto.hpp"
#include "domain/rules.hpp"

namespace mailtally::smtp {
namespace {

constexpr std::string_view kCrlf = "\r\n";

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequal(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Printable US-ASCII plus space and tab: what a command line may hold.
bool is_command_text(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u >= 0x20 && u < 0x7f) || u == '\t';
  });
}

std::string upper_copy(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = upper(c);
  return out;
}

}  // namespace

std::optional<PathArgument> parse_path_argument(std::string_view text) {
  text = trim(text);
  PathArgument out;
  std::string_view rest;
  if (!text.empty() && text.front() == '<') {
    auto close = text.find('>');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view inside = text.substr(1, close - 1);
    // A source route (<@a,@b:user@d>) is accepted and ignored (RFC 5321 4.1.2, C.).
    if (!inside.empty() && inside.front() == '@') {
      auto colon = inside.find(':');
      if (colon == std::string_view::npos) return std::nullopt;
      inside = inside.substr(colon + 1);
    }
    out.address = std::string(inside);
    rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ' ') return std::nullopt;
  } else {
    // A bare address, as some clients send it.
    auto space = text.find(' ');
    out.address = std::string(text.substr(0, space));
    if (out.address.empty()) return std::nullopt;
    rest = space == std::string_view::npos ? std::string_view() : text.substr(space);
  }
  if (out.address.find_first_of(" <>\t") != std::string::npos) return std::nullopt;
  rest = trim(rest);
  while (!rest.empty()) {
    auto space = rest.find(' ');
    std::string_view item = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : trim(rest.substr(space));
    auto eq = item.find('=');
    std::string key = upper_copy(item.substr(0, eq));
    if (key.empty()) return std::nullopt;
    std::string value(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1));
    out.params.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

Session::Session(SessionSetup setup) : setup_(std::move(setup)) {
  tls_active_ = setup_.tls_active;
  tls_version_ = setup_.tls_version;
}

std::string Session::greeting() const { return "220 " + setup_.hostname + " ESMTP mailtally\r\n"; }

void Session::receive(std::string_view bytes) {
  if (phase_ == Phase::Closed) return;
  if (pos_ > 0 && pos_ == in_.size()) {
    in_.clear();
    pos_ = 0;
  } else if (pos_ > 4096 && pos_ * 2 > in_.size()) {
    in_.erase(0, pos_);
    pos_ = 0;
  }
  in_.append(bytes);
}

bool Session::partial_command() const {
  return phase_ != Phase::Data && phase_ != Phase::Closed && pos_ < in_.size();
}

void Session::reply(std::string& out, std::string_view line) {
  out.append(line);
  out.append(kCrlf);
}

void Session::error(Action& a, std::string_view line) {
  reply(a.output, line);
  if (++errors_ >= setup_.max_errors) {
    reply(a.output, "421 4.7.0 Too many errors, closing connection");
    phase_ = Phase::Closed;
    a.kind = Action::Kind::Close;
  }
}

void Session::reset_transaction() {
  has_mail_ = false;
  envelope_ = Envelope{};
  message_.clear();
  message_.shrink_to_fit();
  data_bytes_ = 0;
  oversize_ = false;
}

// Takes the next complete command line (without its line end) from the buffer. Over-long lines
// are answered in `out` and skipped. False when no complete line is buffered.
bool Session::take_line(std::string& line, std::string& out) {
  for (;;) {
    const char* begin = in_.data() + pos_;
    std::size_t avail = in_.size() - pos_;
    const void* nl = avail ? std::memchr(begin, '\n', avail) : nullptr;
    if (!nl) {
      if (!discarding_line_ && avail >= setup_.max_command_line) {
        reply(out, "500 5.5.2 Line too long");
        ++errors_;
        discarding_line_ = true;
      }
      if (discarding_line_) pos_ = in_.size();
      return false;
    }
    std::size_t len = static_cast<const char*>(nl) - begin;
    pos_ += len + 1;
    ++lines_taken_;
    if (discarding_line_) {
      discarding_line_ = false;
      continue;
    }
    if (len + 1 > setup_.max_command_line) {
      reply(out, "500 5.5.2 Line too long");
      ++errors_;
      continue;
    }
    if (len > 0 && begin[len - 1] == '\r') --len;
    line.assign(begin, len);
    return true;
  }
}

Action Session::next() {
  Action a;
  a.output = std::move(pending_output_);
  pending_output_.clear();
  for (;;) {
    switch (phase_) {
      case Phase::Closed:
        a.kind = Action::Kind::Close;
        return a;
      case Phase::Waiting:
        // Misuse (a result call is missing): read nothing more until it comes.
        a.kind = Action::Kind::Read;
        return a;
      case Phase::Data:
        if (!data(a)) {
          if (a.kind == Action::Kind::Close) return a;
          a.kind = Action::Kind::Read;
          return a;
        }
        if (a.kind != Action::Kind::Read) return a;
        continue;  // oversize answered; go on with pipelined commands
      default:
        break;
    }
    std::string line;
    if (!take_line(line, a.output)) {
      if (errors_ >= setup_.max_errors) {
        reply(a.output, "421 4.7.0 Too many errors, closing connection");
        phase_ = Phase::Closed;
        a.kind = Action::Kind::Close;
        return a;
      }
      a.kind = Action::Kind::Read;
      return a;
    }
    if (phase_ == Phase::Command) {
      command(line, a);
    } else {
      auth_response(line, a);
    }
    if (a.kind != Action::Kind::Read) return a;
  }
}

void Session::command(std::string_view line, Action& a) {
  if (!is_command_text(line)) {
    error(a, "500 5.5.2 Syntax error: command contains invalid characters");
    return;
  }
  auto space = line.find(' ');
  std::string_view verb = line.substr(0, space);
  std::string_view args =
      space == std::string_view::npos ? std::string_view() : trim(line.substr(space + 1));

  if (iequal(verb, "EHLO")) return do_ehlo(args, a, true);
  if (iequal(verb, "HELO")) return do_ehlo(args, a, false);
  if (iequal(verb, "MAIL")) return do_mail(args, a);
  if (iequal(verb, "RCPT")) return do_rcpt(args, a);
  if (iequal(verb, "DATA")) return do_data(args, a);
  if (iequal(verb, "AUTH")) return do_auth(args, a);
  if (iequal(verb, "RSET")) {
    if (!args.empty()) return error(a, "501 5.5.4 Syntax: RSET");
    reset_transaction();
    return reply(a.output, "250 2.0.0 Ok");
  }
  if (iequal(verb, "NOOP")) return reply(a.output, "250 2.0.0 Ok");
  if (iequal(verb, "QUIT")) {
    reply(a.output, "221 2.0.0 Bye");
    phase_ = Phase::Closed;
    a.kind = Action::Kind::Close;
    return;
  }
  if (iequal(verb, "STARTTLS")) {
    if (!args.empty()) return error(a, "501 5.5.4 Syntax: STARTTLS");
    if (tls_active_) return error(a, "503 5.5.1 TLS already active");
    if (!setup_.tls_available) return reply(a.output, "454 4.7.0 TLS not available");
    reply(a.output, "220 2.0.0 Ready to start TLS");
    // RFC 3207 5: whatever the client sent after STARTTLS in plain text is discarded, and the
    // session starts over (EHLO again; no AUTH carried across).
    in_.clear();
    pos_ = 0;
    greeted_ = false;
    identity_.clear();
    reset_transaction();
    phase_ = Phase::Waiting;
    a.kind = Action::Kind::StartTls;
    return;
  }
  if (iequal(verb, "VRFY")) {
    if (args.empty()) return error(a, "501 5.5.4 Syntax: VRFY address");
    return reply(a.output,
                 "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
  }
  if (iequal(verb, "EXPN")) return error(a, "502 5.5.1 EXPN not available");
  if (iequal(verb, "HELP")) {
    return reply(a.output,
                 "214 2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA RSET NOOP VRFY QUIT");
  }
  if (iequal(verb, "BDAT")) return error(a, "502 5.5.1 BDAT not available (no CHUNKING)");
  // An HTTP request sent to the SMTP port (cross-protocol use): answer once and close.
  if (iequal(verb, "GET") || iequal(verb, "POST") || iequal(verb, "PUT") ||
      iequal(verb, "CONNECT") || iequal(verb, "HEAD")) {
    reply(a.output, "421 4.7.0 This is an SMTP server, closing connection");
    phase_ = Phase::Closed;
    a.kind = Action::Kind::Close;
    return;
  }
  error(a, "500 5.5.2 Syntax error, command unrecognized");
}

void Session::do_ehlo(std::string_view args, Action& a, bool extended) {
  if (args.empty()) {
    return error(a,
                 extended ? "501 5.5.4 Syntax: EHLO hostname" : "501 5.5.4 Syntax: HELO hostname");
  }
  reset_transaction();
  greeted_ = true;
  if (!extended) return reply(a.output, "250 " + setup_.hostname);
  std::vector<std::string> lines{setup_.hostname,
                                 "SIZE " + std::to_string(setup_.max_message_bytes), "8BITMIME",
                                 "PIPELINING", "ENHANCEDSTATUSCODES"};
  if (setup_.tls_available && !tls_active_) lines.push_back("STARTTLS");
  if (tls_active_ || setup_.auth_without_tls) lines.push_back("AUTH PLAIN LOGIN");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    reply(a.output, (i + 1 < lines.size() ? "250-" : "250 ") + lines[i]);
  }
}

void Session::do_auth(std::string_view args, Action& a) {
  if (!greeted_) return error(a, "503 5.5.1 Send EHLO first");
  if (!identity_.empty()) return error(a, "503 5.5.1 Already authenticated");
  if (has_mail_) return error(a, "503 5.5.1 AUTH not permitted during a mail transaction");
  if (!tls_active_ && !setup_.auth_without_tls) {
    return error(a, "530 5.7.0 Must issue a STARTTLS command first");
  }
  auto space = args.find(' ');
  std::string_view mech = args.substr(0, space);
  std::string_view initial =
      space == std::string_view::npos ? std::string_view() : trim(args.substr(space + 1));
  if (mech.empty()) return error(a, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
  bool has_initial = space != std::string_view::npos && !initial.empty();
  if (iequal(mech, "PLAIN")) {
    if (!has_initial) {
      phase_ = Phase::AuthPlain;
      return reply(a.output, "334 ");
    }
    if (initial == "=") return check_plain("", a);
    auto decoded = base::base64_decode(initial);
    if (!decoded) return error(a, "501 5.5.2 Cannot decode the AUTH response (base64)");
    return check_plain(*decoded, a);
  }
  if (iequal(mech, "LOGIN")) {
    if (!has_initial) {
      phase_ = Phase::AuthLoginUser;
      return reply(a.output, "334 VXNlcm5hbWU6");  // "Username:"
    }
    auto decoded = base::base64_decode(initial);
    if (!decoded) return error(a, "501 5.5.2 Cannot decode the AUTH response (base64)");
    login_user_ = *decoded;
    phase_ = Phase::AuthLoginPassword;
    return reply(a.output, "334 UGFzc3dvcmQ6");  // "Password:"
  }
  error(a, "504 5.5.4 Unrecognized authentication type");
}

void Session::auth_response(std::string_view line, Action& a) {
  Phase phase = phase_;
  phase_ = Phase::Command;
  if (line == "*") return error(a, "501 5.0.0 Authentication cancelled");
  std::optional<std::string> decoded;
  if (line == "=" || line.empty()) {
    decoded = std::string();
  } else {
    decoded = base::base64_decode(trim(line));
  }
  if (!decoded) return error(a, "501 5.5.2 Cannot decode the AUTH response (base64)");
  if (phase == Phase::AuthPlain) return check_plain(*decoded, a);
  if (phase == Phase::AuthLoginUser) {
    login_user_ = *decoded;
    phase_ = Phase::AuthLoginPassword;
    return reply(a.output, "334 UGFzc3dvcmQ6");
  }
  // AuthLoginPassword
  a.kind = Action::Kind::Authenticate;
  a.username = std::move(login_user_);
  a.password = std::move(*decoded);
  login_user_.clear();
  phase_ = Phase::Waiting;
}

// PLAIN: [authzid] NUL authcid NUL passwd (RFC 4616). An authzid other than the authcid is
// refused: a key can only act as itself.
void Session::check_plain(std::string_view decoded, Action& a) {
  auto first = decoded.find('\0');
  auto second = first == std::string_view::npos ? first : decoded.find('\0', first + 1);
  if (second == std::string_view::npos ||
      decoded.find('\0', second + 1) != std::string_view::npos) {
    a.kind = Action::Kind::Authenticate;  // malformed: fails like a wrong password
    phase_ = Phase::Waiting;
    return;
  }
  std::string_view authz = decoded.substr(0, first);
  std::string_view user = decoded.substr(first + 1, second - first - 1);
  std::string_view pass = decoded.substr(second + 1);
  a.kind = Action::Kind::Authenticate;
  phase_ = Phase::Waiting;
  if (!authz.empty() && authz != user) return;  // empty username: refused by the checker
  a.username = std::string(user);
  a.password = std::string(pass);
}

void Session::authenticated(AuthResult result, std::string identity) {
  if (phase_ != Phase::Waiting) return;
  phase_ = Phase::Command;
  std::string out;
  switch (result) {
    case AuthResult::Ok:
      identity_ = identity.empty() ? std::string("smtp") : std::move(identity);
      reply(out, "235 2.7.0 Authentication successful");
      break;
    case AuthResult::TemporaryFailure:
      reply(out, "454 4.7.0 Temporary authentication failure");
      break;
    case AuthResult::Invalid:
      if (++auth_failures_ >= setup_.max_auth_failures) {
        reply(out, "421 4.7.0 Too many failed authentication attempts, closing connection");
        phase_ = Phase::Closed;
      } else {
        reply(out, "535 5.7.8 Authentication credentials invalid");
      }
      break;
  }
  pending_output_ += out;  // goes out with the next action's output
}

void Session::do_mail(std::string_view args, Action& a) {
  if (!istarts_with(args, "FROM:")) return error(a, "501 5.5.4 Syntax: MAIL FROM:<address>");
  if (!greeted_) return error(a, "503 5.5.1 Send EHLO/HELO first");
  if (identity_.empty()) return error(a, "530 5.7.0 Authentication required");
  if (has_mail_) return error(a, "503 5.5.1 Sender already specified");
  auto path = parse_path_argument(args.substr(5));
  if (!path) return error(a, "501 5.5.4 Syntax: MAIL FROM:<address>");
  if (path->address.empty() || !domain::is_valid_email_address(path->address)) {
    return error(a, "553 5.1.7 The sender address is not a valid email address");
  }
  for (const auto& [key, value] : path->params) {
    if (key == "SIZE") {
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string::npos) {
        return error(a, "501 5.5.4 Syntax: SIZE=<number of octets>");
      }
      if (std::stoull(value) > setup_.max_message_bytes) {
        return reply(a.output, "552 5.3.4 Message size exceeds fixed maximum message size");
      }
    } else if (key == "BODY") {
      if (!iequal(value, "7BIT") && !iequal(value, "8BITMIME")) {
        return error(a, "501 5.5.4 Syntax: BODY=7BIT or BODY=8BITMIME");
      }
    } else if (key == "AUTH") {
      // RFC 4954 5: the submitter's identity; accepted and not used.
    } else {
      return error(a, "555 5.5.4 Unsupported MAIL parameter " + key);
    }
  }
  has_mail_ = true;
  envelope_.mail_from = path->address;
  reply(a.output, "250 2.1.0 Ok");
}

void Session::do_rcpt(std::string_view args, Action& a) {
  if (!istarts_with(args, "TO:")) return error(a, "501 5.5.4 Syntax: RCPT TO:<address>");
  if (!has_mail_) return error(a, "503 5.5.1 Need MAIL before RCPT");
  auto path = parse_path_argument(args.substr(3));
  if (!path) return error(a, "501 5.5.4 Syntax: RCPT TO:<address>");
  if (!path->params.empty()) {
    return error(a, "555 5.5.4 Unsupported RCPT parameter " + path->params.front().first);
  }
  if (path->address.empty() || !domain::is_valid_email_address(path->address)) {
    return reply(a.output, "553 5.1.3 The recipient address is not a valid email address");
  }
  if (envelope_.rcpt_to.size() >= setup_.max_recipients) {
    return reply(a.output, "452 4.5.3 Too many recipients (at most " +
                               std::to_string(setup_.max_recipients) + " per message)");
  }
  envelope_.rcpt_to.push_back(path->address);
  reply(a.output, "250 2.1.5 Ok");
}

void Session::do_data(std::string_view args, Action& a) {
  if (!args.empty()) return error(a, "501 5.5.4 Syntax: DATA");
  if (!has_mail_) return error(a, "503 5.5.1 Need MAIL command");
  if (envelope_.rcpt_to.empty()) return error(a, "554 5.5.1 No valid recipients");
  reply(a.output, "354 End data with <CR><LF>.<CR><LF>");
  phase_ = Phase::Data;
  data_state_ = DataState::LineStart;
  data_line_crlf_ = true;
  data_last_cr_ = false;
  message_.clear();
  data_bytes_ = 0;
  oversize_ = false;
}

// The DATA decoder: a byte-level state machine over the buffer. A "." at the start of a line
// (after CRLF, or after a bare LF as some clients send, e.g. Python's smtplib with bytes) is a
// stuffed dot and removed — except a "." alone on a line, which is kept. The data ends only at
// CRLF "." CRLF: a "." line next to a bare LF is content, never the end (no SMTP smuggling).
bool Session::data(Action& a) {
  const char* p = in_.data() + pos_;
  const char* end = in_.data() + in_.size();
  auto keep = [&](const char* from, std::size_t n) {
    if (n == 0) return;
    data_last_cr_ = from[n - 1] == '\r';
    data_bytes_ += n;
    if (oversize_) return;
    if (data_bytes_ > setup_.max_message_bytes) {
      oversize_ = true;
      message_.clear();
      message_.shrink_to_fit();
      return;
    }
    message_.append(from, n);
  };
  bool done = false;
  while (p < end && !done) {
    switch (data_state_) {
      case DataState::Text: {
        const void* nl = std::memchr(p, '\n', end - p);
        if (!nl) {
          keep(p, end - p);
          p = end;
          break;
        }
        const char* stop = static_cast<const char*>(nl);
        bool crlf = stop > p ? stop[-1] == '\r' : data_last_cr_;
        keep(p, stop + 1 - p);
        p = stop + 1;
        data_line_crlf_ = crlf;
        data_state_ = DataState::LineStart;
        break;
      }
      case DataState::LineStart:
        if (*p == '.') {
          ++p;
          data_state_ = DataState::Dot;
        } else {
          data_state_ = DataState::Text;
        }
        break;
      case DataState::Dot:
        if (*p == '\r') {
          ++p;
          data_state_ = DataState::DotCr;
        } else if (*p == '\n') {
          keep(".", 1);  // "." alone before a bare LF: content
          data_state_ = DataState::Text;
        } else {
          data_state_ = DataState::Text;  // the stuffed dot is dropped; reprocess *p
        }
        break;
      case DataState::DotCr:
        if (*p == '\n') {
          ++p;
          if (data_line_crlf_) {
            done = true;
          } else {
            keep(".\r\n", 3);  // after a bare LF: content
            data_line_crlf_ = true;
            data_state_ = DataState::LineStart;
          }
        } else {
          keep("\r", 1);  // the stuffed dot is dropped; reprocess *p
          data_state_ = DataState::Text;
        }
        break;
    }
  }
  pos_ = p - in_.data();
  if (!done) {
    if (data_bytes_ > 2 * setup_.max_message_bytes) {
      reply(a.output, "552 5.3.4 Message size exceeds fixed maximum message size");
      reply(a.output, "421 4.7.0 Message far too large, closing connection");
      reset_transaction();
      phase_ = Phase::Closed;
      a.kind = Action::Kind::Close;
    }
    return false;
  }
  if (oversize_) {
    reset_transaction();
    phase_ = Phase::Command;
    reply(a.output, "552 5.3.4 Message size exceeds fixed maximum message size");
    return true;
  }
  a.kind = Action::Kind::Submit;
  a.envelope = std::move(envelope_);
  a.message = std::move(message_);
  reset_transaction();
  phase_ = Phase::Waiting;
  return true;
}

void Session::tls_started(std::string version) {
  if (phase_ != Phase::Waiting) return;
  tls_active_ = true;
  tls_version_ = std::move(version);
  phase_ = Phase::Command;
}

void Session::submitted(std::string reply_line) {
  if (phase_ != Phase::Waiting) return;
  phase_ = Phase::Command;
  reply(pending_output_, reply_line);
}

}  // namespace mailtally::smtp
