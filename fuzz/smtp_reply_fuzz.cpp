// The SMTP reply parser of the relay client (replies come from the configured SMTP server).
// Link: mailtally_relay. Parses replies back to back, as the client does, and checks the
// parser's contract: progress on every complete reply, codes in range, the enhanced code's
// class matching the reply's.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "relay/smtp_reply.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailtally::relay;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty()) {
    SmtpReply r;
    std::size_t used = 0;
    ReplyParse p = parse_reply(in, r, used);
    if (p != ReplyParse::Complete) break;
    if (used == 0 || used > in.size()) __builtin_trap();
    if (r.code < 200 || r.code > 599 || r.lines.empty()) __builtin_trap();
    if (!r.enhanced.empty() && r.enhanced[0] - '0' != r.klass()) __builtin_trap();
    if (r.text().size() > used + 4 * r.lines.size()) __builtin_trap();
    in.remove_prefix(used);
  }
  return 0;
}
