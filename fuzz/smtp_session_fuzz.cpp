// The SMTP command and DATA parser (smtp::Session), fed arbitrary bytes in arbitrary chunks with
// its actions answered. Link: mailtally_smtp_session.
//
// Input: byte 0 = chunk size (1..64) and flags (TLS active, AUTH without TLS); the rest is the
// client's byte stream. Checks: every reply line is CRLF-terminated and starts with a 3-digit
// code and ' ' or '-'; buffered input stays bounded; submitted messages respect the limits.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "smtp/session.hpp"

namespace {

void check_output(std::string_view out) {
  while (!out.empty()) {
    auto crlf = out.find("\r\n");
    if (crlf == std::string_view::npos) __builtin_trap();  // unterminated reply line
    std::string_view line = out.substr(0, crlf);
    if (line.size() < 4) __builtin_trap();
    for (int i = 0; i < 3; ++i) {
      if (line[i] < '0' || line[i] > '9') __builtin_trap();
    }
    if (line[3] != ' ' && line[3] != '-') __builtin_trap();
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos) {
      __builtin_trap();
    }
    out.remove_prefix(crlf + 2);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailtally::smtp;
  if (size == 0) return 0;
  const std::size_t chunk = (data[0] & 0x3f) + 1;
  SessionSetup setup;
  setup.hostname = "fuzz.test";
  setup.max_recipients = 3;
  setup.max_message_bytes = 256;
  setup.max_command_line = 100;
  setup.max_auth_failures = 3;
  setup.max_errors = 50;
  setup.tls_active = (data[0] & 0x40) != 0;
  setup.tls_version = setup.tls_active ? "TLSv1.3" : "";
  setup.auth_without_tls = (data[0] & 0x80) != 0;
  Session s(setup);
  check_output(s.greeting());
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool closed = false;
  while (!closed) {
    Action a = s.next();
    check_output(a.output);
    switch (a.kind) {
      case Action::Kind::Read: {
        if (s.buffered() >= setup.max_command_line && !s.in_data()) __builtin_trap();
        if (in.empty()) return 0;
        std::size_t n = std::min(chunk, in.size());
        s.receive(in.substr(0, n));
        in.remove_prefix(n);
        break;
      }
      case Action::Kind::StartTls:
        if (s.tls_active()) __builtin_trap();
        s.tls_started("TLSv1.3");
        break;
      case Action::Kind::Authenticate:
        s.authenticated(a.username == "u" ? AuthResult::Ok : AuthResult::Invalid, "fuzz");
        break;
      case Action::Kind::Submit:
        if (s.identity().empty()) __builtin_trap();  // never without AUTH
        if (a.message.size() > setup.max_message_bytes) __builtin_trap();
        if (a.envelope.rcpt_to.empty() || a.envelope.rcpt_to.size() > setup.max_recipients) {
          __builtin_trap();
        }
        if (a.envelope.mail_from.empty()) __builtin_trap();
        s.submitted("250 Ok fuzz");
        break;
      case Action::Kind::Close:
        closed = true;
        break;
    }
  }
  Action after = s.next();
  if (after.kind != Action::Kind::Close || !after.output.empty()) __builtin_trap();
  return 0;
}
