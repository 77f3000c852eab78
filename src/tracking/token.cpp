#include "tracking/token.hpp"

#include <optional>

#include "base/crypto.hpp"

namespace mailtally::tracking {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint32_t kMaxVarint = (1u << 28) - 1;  // 4 LEB128 bytes

void put_varint(std::string& out, std::size_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void put_field(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out += s;
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool byte(std::uint8_t& b) {
    if (data_.empty()) return false;
    b = static_cast<std::uint8_t>(data_.front());
    data_.remove_prefix(1);
    return true;
  }
  bool varint(std::size_t& v) {
    v = 0;
    for (int i = 0; i < 4; ++i) {
      std::uint8_t b = 0;
      if (!byte(b)) return false;
      v |= static_cast<std::size_t>(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) return v <= kMaxVarint && (i == 0 || b != 0);  // minimal form only
    }
    return false;
  }
  bool field(std::string& s) {
    std::size_t n = 0;
    if (!varint(n) || n > data_.size()) return false;
    s.assign(data_.substr(0, n));
    data_.remove_prefix(n);
    return true;
  }
  bool bytes(std::size_t n, std::string& s) {
    if (n > data_.size()) return false;
    s.assign(data_.substr(0, n));
    data_.remove_prefix(n);
    return true;
  }
  bool done() const { return data_.empty(); }

 private:
  std::string_view data_;
};

// SES-form message ids ("%016x-<uuid4>-%06d", lower-case hex) travel as 27 bytes instead of
// 60 characters: 8 + 16 bytes of hex digits and the 6-digit suffix as a 3-byte number.
constexpr std::uint8_t kIdText = 0, kIdPacked = 1;
constexpr std::size_t kPackedIdBytes = 27;
constexpr int kIdGroups[] = {16, 8, 4, 4, 4, 12};  // hex digits between the dashes

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> pack_id(std::string_view id) {
  if (id.size() != 60) return std::nullopt;
  std::string hex;
  std::size_t pos = 0;
  for (int n : kIdGroups) {
    for (int i = 0; i < n; ++i) {
      if (hex_value(id[pos]) < 0) return std::nullopt;
      hex += id[pos++];
    }
    if (id[pos++] != '-') return std::nullopt;
  }
  std::uint32_t suffix = 0;
  for (; pos < id.size(); ++pos) {
    if (id[pos] < '0' || id[pos] > '9') return std::nullopt;
    suffix = suffix * 10 + static_cast<std::uint32_t>(id[pos] - '0');
  }
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out += static_cast<char>(hex_value(hex[i]) << 4 | hex_value(hex[i + 1]));
  }
  out += static_cast<char>(suffix >> 16);
  out += static_cast<char>(suffix >> 8 & 0xff);
  out += static_cast<char>(suffix & 0xff);
  return out;
}

std::optional<std::string> unpack_id(std::string_view b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  std::size_t byte = 0;
  for (int n : kIdGroups) {
    for (int i = 0; i < n; i += 2, ++byte) {
      auto v = static_cast<unsigned char>(b[byte]);
      id += kHex[v >> 4];
      id += kHex[v & 15];
    }
    id += '-';
  }
  std::uint32_t suffix = static_cast<std::uint32_t>(static_cast<unsigned char>(b[24])) << 16 |
                         static_cast<std::uint32_t>(static_cast<unsigned char>(b[25])) << 8 |
                         static_cast<unsigned char>(b[26]);
  if (suffix > 999999) return std::nullopt;
  std::string digits = std::to_string(suffix);
  id += std::string(6 - digits.size(), '0') + digits;
  return id;
}

std::string mac(std::string_view secret, std::string_view payload) {
  auto d = base::hmac_sha256(secret, payload);
  return std::string(reinterpret_cast<const char*>(d.data()), kMacBytes);
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string s = base::base64_encode(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (auto& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string s;
  s.reserve(text.size() + 2);
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return std::nullopt;
    s += c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (s.size() % 4) s += '=';
  auto bytes = base::base64_decode(s);
  // Canonical only: unused low bits of the last character must be zero.
  if (!bytes || base64url_encode(*bytes) != text) return std::nullopt;
  return bytes;
}

std::string encode_token(std::string_view secret, const Token& t) {
  std::string payload;
  payload += static_cast<char>(kVersion);
  payload += static_cast<char>(t.kind);
  if (auto packed = pack_id(t.message_id)) {
    payload += static_cast<char>(kIdPacked);
    payload += *packed;
  } else {
    payload += static_cast<char>(kIdText);
    put_field(payload, t.message_id);
  }
  if (t.kind == TokenKind::Click) {
    put_field(payload, t.link);
    put_varint(payload, t.tags.size());
    for (const auto& [name, value] : t.tags) {
      put_field(payload, name);
      put_field(payload, value);
    }
  }
  return base64url_encode(payload + mac(secret, payload));
}

std::optional<Token> decode_token(std::string_view secret, std::string_view text) {
  if (text.empty() || text.size() > kMaxTokenChars) return std::nullopt;
  auto bytes = base64url_decode(text);
  if (!bytes || bytes->size() < 2 + kMacBytes) return std::nullopt;
  std::string_view all(*bytes);
  std::string_view payload = all.substr(0, all.size() - kMacBytes);
  if (!base::constant_time_equal(mac(secret, payload), all.substr(payload.size()))) {
    return std::nullopt;
  }
  Reader r(payload);
  std::uint8_t version = 0, kind = 0;
  if (!r.byte(version) || version != kVersion || !r.byte(kind)) return std::nullopt;
  Token t;
  if (kind == static_cast<std::uint8_t>(TokenKind::Open)) {
    t.kind = TokenKind::Open;
  } else if (kind == static_cast<std::uint8_t>(TokenKind::Click)) {
    t.kind = TokenKind::Click;
  } else {
    return std::nullopt;
  }
  std::uint8_t id_form = 0;
  if (!r.byte(id_form)) return std::nullopt;
  if (id_form == kIdPacked) {
    std::string packed;
    if (!r.bytes(kPackedIdBytes, packed)) return std::nullopt;
    auto id = unpack_id(packed);
    if (!id) return std::nullopt;
    t.message_id = std::move(*id);
  } else if (id_form != kIdText || !r.field(t.message_id) || t.message_id.empty() ||
             pack_id(t.message_id)) {  // an SES-form id is always packed
    return std::nullopt;
  }
  if (t.kind == TokenKind::Click) {
    std::size_t count = 0;
    if (!r.field(t.link) || !r.varint(count)) return std::nullopt;
    for (std::size_t i = 0; i < count; ++i) {
      std::string name, value;
      if (!r.field(name) || !r.field(value)) return std::nullopt;
      t.tags.emplace_back(std::move(name), std::move(value));
    }
  }
  if (!r.done()) return std::nullopt;
  return t;
}

}  // namespace mailtally::tracking
