#include "sending/mime_build.hpp"

#include <cstdint>

#include "base/crypto.hpp"
#include "sending/ids.hpp"

namespace mailtally::sending {
namespace {

bool is_plain_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x7f || (c < 0x20 && c != '\t')) return false;
  }
  return true;
}

// Length of the UTF-8 sequence that starts with `c` (1 for continuation/invalid bytes).
std::size_t utf8_len(unsigned char c) {
  if (c >= 0xf0) return 4;
  if (c >= 0xe0) return 3;
  if (c >= 0xc0) return 2;
  return 1;
}

enum class Encoding { SevenBit, QuotedPrintable, Base64 };

Encoding choose_encoding(std::string_view body) {
  std::size_t high = 0, line = 0, max_line = 0;
  bool bare_cr = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    auto c = static_cast<unsigned char>(body[i]);
    if (c >= 0x80 || c == 0) ++high;
    if (c == '\r' && (i + 1 >= body.size() || body[i + 1] != '\n')) bare_cr = true;
    if (c == '\n') {
      line = 0;
    } else if (++line > max_line) {
      max_line = line;
    }
  }
  if (high == 0 && max_line <= 998 && !bare_cr) return Encoding::SevenBit;
  return high * 4 <= body.size() ? Encoding::QuotedPrintable : Encoding::Base64;
}

// Normalizes line endings to CRLF (for 7bit bodies).
std::string crlf(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 32);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
    out += s[i];
  }
  return out;
}

void add_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

std::string address_list(const std::vector<std::string>& list) {
  std::string v;
  for (const auto& a : list) {
    if (!v.empty()) v += ", ";
    v += encode_address(a);
  }
  return v;
}

// One leaf part: its Content-Type/-Transfer-Encoding headers, a blank line, the body.
std::string leaf(std::string_view subtype, const TextPart& part) {
  std::string out;
  std::string charset = part.charset.empty() ? "UTF-8" : part.charset;
  add_header(out, "Content-Type", "text/" + std::string(subtype) + "; charset=" + charset);
  switch (choose_encoding(part.data)) {
    case Encoding::SevenBit:
      add_header(out, "Content-Transfer-Encoding", "7bit");
      out += "\r\n" + crlf(part.data);
      break;
    case Encoding::QuotedPrintable:
      add_header(out, "Content-Transfer-Encoding", "quoted-printable");
      out += "\r\n" + quoted_printable(part.data);
      break;
    case Encoding::Base64:
      add_header(out, "Content-Transfer-Encoding", "base64");
      out += "\r\n" + base64_lines(part.data);
      break;
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

}  // namespace

std::string encode_header_text(std::string_view text, std::string_view charset) {
  if (is_plain_ascii(text)) return std::string(text);
  std::string cs = charset.empty() ? "UTF-8" : std::string(charset);
  // 75 - len("=?cs?B?" "?=") characters of base64 -> whole groups of 3 input bytes.
  std::size_t room = 75 - (cs.size() + 7);
  std::size_t max_in = room / 4 * 3;
  if (max_in < 6) max_in = 6;
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t n = 0;
    while (i + n < text.size()) {
      std::size_t l = utf8_len(static_cast<unsigned char>(text[i + n]));
      if (n + l > max_in && n > 0) break;
      n += l;
    }
    if (i + n > text.size()) n = text.size() - i;
    if (!out.empty()) out += "\r\n ";
    out += "=?" + cs + "?B?" + base::base64_encode(text.substr(i, n)) + "?=";
    i += n;
  }
  return out;
}

std::string encode_address(std::string_view address) {
  if (is_plain_ascii(address)) return std::string(address);
  auto lt = address.rfind('<');
  if (lt == std::string_view::npos) return std::string(address);
  std::string_view name = address.substr(0, lt);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  return encode_header_text(name) + " " + std::string(address.substr(lt));
}

std::string quoted_printable(std::string_view data) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(data.size() * 3 / 2);
  std::size_t col = 0;
  auto emit = [&](std::string_view piece) {
    if (col + piece.size() > 75) {
      out += "=\r\n";
      col = 0;
    }
    out += piece;
    col += piece.size();
  };
  for (std::size_t i = 0; i < data.size(); ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') continue;  // CRLF -> line break
    if (c == '\n') {
      // Trailing whitespace before a hard break must be encoded.
      if (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
        char ws = out.back();
        out.pop_back();
        --col;
        char enc[4] = {'=', kHex[static_cast<unsigned char>(ws) >> 4],
                       kHex[static_cast<unsigned char>(ws) & 15], 0};
        emit(enc);
      }
      out += "\r\n";
      col = 0;
      continue;
    }
    bool literal = (c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t';
    if (literal && !(col == 0 && c == '.')) {
      char one[2] = {static_cast<char>(c), 0};
      emit(one);
    } else {
      char enc[4] = {'=', kHex[c >> 4], kHex[c & 15], 0};
      emit(enc);
    }
  }
  if (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out += "=\r\n";
  return out;
}

std::string base64_lines(std::string_view data) {
  std::string b64 = base::base64_encode(data);
  std::string out;
  out.reserve(b64.size() + b64.size() / 38 + 2);
  for (std::size_t i = 0; i < b64.size(); i += 76) out.append(b64, i, 76).append("\r\n");
  return out;
}

std::string build_simple_message(const SimpleContent& c) {
  std::string out;
  add_header(out, "From", encode_address(c.from));
  if (!c.reply_to.empty()) add_header(out, "Reply-To", address_list(c.reply_to));
  if (!c.to.empty()) add_header(out, "To", address_list(c.to));
  if (!c.cc.empty()) add_header(out, "Cc", address_list(c.cc));
  add_header(out, "Subject", encode_header_text(c.subject.data, c.subject.charset));
  add_header(out, "Message-ID", c.message_id_header);
  add_header(out, "Date", rfc5322_date(c.date));
  for (const auto& [name, value] : c.extra_headers) add_header(out, name, value);
  add_header(out, "MIME-Version", "1.0");
  if (c.text && c.html) {
    add_header(out, "Content-Type", "multipart/alternative; boundary=\"" + c.boundary + "\"");
    out += "\r\n--" + c.boundary + "\r\n" + leaf("plain", *c.text);
    out += "\r\n--" + c.boundary + "\r\n" + leaf("html", *c.html);
    out += "\r\n--" + c.boundary + "--\r\n";
    return out;
  }
  TextPart empty;
  out += c.html ? leaf("html", *c.html) : leaf("plain", c.text ? *c.text : empty);
  return out;
}

}  // namespace mailtally::sending
