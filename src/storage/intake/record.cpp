#include "storage/intake/record.hpp"

#include <cstdint>
#include <cstring>

namespace mailtally::storage::intake {
namespace {

constexpr std::uint32_t kVersion = 1;
constexpr std::uint8_t kHasVirus = 1, kTagsFromHeader = 2, kFinished = 4;

void put_u32(std::string& out, std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 4);
}

void put_f64(std::string& out, double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
  out.append(b, 8);
}

void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

// Reads from the front of `in`; every getter fails (false) instead of reading past the end.
struct Reader {
  std::string_view in;

  bool u32(std::uint32_t& v) {
    if (in.size() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<unsigned char>(in[i])} << (8 * i);
    in.remove_prefix(4);
    return true;
  }
  bool f64(double& v) {
    if (in.size() < 8) return false;
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) {
      bits |= std::uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
    }
    std::memcpy(&v, &bits, sizeof v);
    in.remove_prefix(8);
    return true;
  }
  bool u8(std::uint8_t& v) {
    if (in.empty()) return false;
    v = static_cast<std::uint8_t>(in[0]);
    in.remove_prefix(1);
    return true;
  }
  bool str(std::string& s) {
    std::uint32_t n = 0;
    if (!u32(n) || in.size() < n) return false;
    s.assign(in.substr(0, n));
    in.remove_prefix(n);
    return true;
  }
};

}  // namespace

void encode(const Entry& e, std::string& out) {
  const auto& m = e.message;
  std::size_t size =
      64 + m.message_id.size() + m.configuration_set.size() + m.mail.size() + m.raw.size();
  for (const auto& r : m.recipients) size += 4 + r.size();
  for (const auto& ev : e.events) size += 8 + ev.event_type.size() + ev.record.size();
  out.reserve(out.size() + size);
  put_u32(out, kVersion);
  put_str(out, m.message_id);
  put_str(out, m.configuration_set);
  put_str(out, m.mail);
  put_str(out, m.raw);
  put_u32(out, static_cast<std::uint32_t>(m.recipients.size()));
  for (const auto& r : m.recipients) put_str(out, r);
  put_f64(out, m.created_at);
  out.push_back(static_cast<char>((m.has_virus ? kHasVirus : 0) |
                                  (m.tags_from_header ? kTagsFromHeader : 0) |
                                  (m.finished ? kFinished : 0)));
  put_u32(out, static_cast<std::uint32_t>(e.events.size()));
  for (const auto& ev : e.events) {
    put_str(out, ev.event_type);
    put_str(out, ev.record);
  }
  put_f64(out, e.now);
}

std::optional<Entry> decode(std::string_view bytes) {
  Reader r{bytes};
  Entry e;
  auto& m = e.message;
  std::uint32_t version = 0, count = 0;
  if (!r.u32(version) || version != kVersion) return std::nullopt;
  if (!r.str(m.message_id) || !r.str(m.configuration_set) || !r.str(m.mail) || !r.str(m.raw)) {
    return std::nullopt;
  }
  // A count can never exceed the bytes left (each item takes at least 4): no huge reserve.
  if (!r.u32(count) || count > r.in.size() / 4) return std::nullopt;
  m.recipients.resize(count);
  for (auto& rcpt : m.recipients) {
    if (!r.str(rcpt)) return std::nullopt;
  }
  std::uint8_t flags = 0;
  if (!r.f64(m.created_at) || !r.u8(flags)) return std::nullopt;
  if ((flags & ~(kHasVirus | kTagsFromHeader | kFinished)) != 0) return std::nullopt;
  m.has_virus = (flags & kHasVirus) != 0;
  m.tags_from_header = (flags & kTagsFromHeader) != 0;
  m.finished = (flags & kFinished) != 0;
  if (!r.u32(count) || count > r.in.size() / 8) return std::nullopt;
  e.events.resize(count);
  for (auto& ev : e.events) {
    if (!r.str(ev.event_type) || !r.str(ev.record)) return std::nullopt;
  }
  if (!r.f64(e.now) || !r.in.empty()) return std::nullopt;
  return e;
}

}  // namespace mailtally::storage::intake
