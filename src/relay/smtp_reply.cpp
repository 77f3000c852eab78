#include "relay/smtp_reply.hpp"

namespace mailtally::relay {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

// Digits at `text[i]...`: at least 1, at most `max`; advances `i`.
bool digits(std::string_view text, std::size_t& i, std::size_t max) {
  std::size_t start = i;
  while (i < text.size() && digit(text[i]) && i - start < max) ++i;
  return i > start && (i >= text.size() || !digit(text[i]));
}

}  // namespace

std::string SmtpReply::text() const {
  std::string out = std::to_string(code);
  for (const auto& l : lines) {
    if (l.empty()) continue;
    out += ' ';
    out += l;
  }
  return out;
}

std::string enhanced_status_prefix(std::string_view text, int klass) {
  if (text.size() < 5 || !digit(text[0]) || text[0] - '0' != klass || text[1] != '.') return {};
  std::size_t i = 2;
  if (!digits(text, i, 3) || i >= text.size() || text[i] != '.') return {};
  ++i;
  if (!digits(text, i, 3)) return {};
  if (i < text.size() && text[i] != ' ' && text[i] != '\t') return {};
  return std::string(text.substr(0, i));
}

ReplyParse parse_reply(std::string_view buffer, SmtpReply& out, std::size_t& consumed) {
  SmtpReply reply;
  std::size_t pos = 0;
  while (true) {
    std::size_t nl = buffer.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (buffer.size() - pos > kMaxReplyLine || buffer.size() > kMaxReplyBytes) {
        return ReplyParse::Malformed;
      }
      return ReplyParse::Incomplete;
    }
    if (nl + 1 - pos > kMaxReplyLine || nl + 1 > kMaxReplyBytes) return ReplyParse::Malformed;
    std::string_view line = buffer.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2])) {
      return ReplyParse::Malformed;
    }
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (code < 200 || code > 599) return ReplyParse::Malformed;
    if (reply.code != 0 && code != reply.code) return ReplyParse::Malformed;
    reply.code = code;
    bool last = true;
    std::string_view text;
    if (line.size() > 3) {
      if (line[3] == '-') {
        last = false;
      } else if (line[3] != ' ') {
        return ReplyParse::Malformed;
      }
      text = line.substr(4);
    }
    reply.lines.emplace_back(text);
    if (reply.lines.size() > kMaxReplyLines) return ReplyParse::Malformed;
    pos = nl + 1;
    if (last) break;
  }
  if (!reply.lines.empty()) reply.enhanced = enhanced_status_prefix(reply.lines[0], reply.klass());
  out = std::move(reply);
  consumed = pos;
  return ReplyParse::Complete;
}

}  // namespace mailtally::relay
