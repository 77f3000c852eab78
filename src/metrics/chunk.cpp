#include "metrics/chunk.hpp"

#include <bit>
#include <cstring>

namespace mailtally::metrics {
namespace {

constexpr char kVersion = 1;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_double(std::string& out, double d) {
  auto bits = std::bit_cast<std::uint64_t>(d);
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
  out.append(buf, 8);
}

bool get_varint(std::string_view& in, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto b = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

double get_double(std::string_view& in) {
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) {
    bits |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in[i])) << (8 * i);
  }
  in.remove_prefix(8);
  return std::bit_cast<double>(bits);
}

}  // namespace

ChunkReader::ChunkReader(std::string_view data) {
  if (data.empty() || data[0] != kVersion) {
    ok_ = false;
    return;
  }
  rest_ = data.substr(1);
}

bool ChunkReader::next(SlotView& out) {
  if (!ok_ || rest_.empty()) return false;
  std::uint64_t slot = 0;
  std::uint64_t len = 0;
  if (!get_varint(rest_, slot) || slot > UINT32_MAX || rest_.size() < 32) {
    ok_ = false;
    return false;
  }
  out.slot = static_cast<std::uint32_t>(slot);
  out.sample_count = get_double(rest_);
  out.sum = get_double(rest_);
  out.minimum = get_double(rest_);
  out.maximum = get_double(rest_);
  if (!get_varint(rest_, len) || len > rest_.size()) {
    ok_ = false;
    return false;
  }
  out.sketch = rest_.substr(0, len);
  rest_.remove_prefix(len);
  return true;
}

ChunkWriter::ChunkWriter() { out_.push_back(kVersion); }

void ChunkWriter::add(std::uint32_t slot, const Aggregate& a) {
  std::string sketch = a.sketch.encode();
  add(SlotView{slot, a.sample_count, a.sum, a.minimum, a.maximum, sketch});
}

void ChunkWriter::add(const SlotView& s) {
  put_varint(out_, s.slot);
  put_double(out_, s.sample_count);
  put_double(out_, s.sum);
  put_double(out_, s.minimum);
  put_double(out_, s.maximum);
  put_varint(out_, s.sketch.size());
  out_.append(s.sketch);
  ++count_;
}

Aggregate to_aggregate(const SlotView& s, bool with_sketch) {
  Aggregate a;
  a.sample_count = s.sample_count;
  a.sum = s.sum;
  a.minimum = s.minimum;
  a.maximum = s.maximum;
  if (with_sketch) {
    if (auto sk = Sketch::decode(s.sketch)) {
      a.sketch = std::move(*sk);
    } else {
      a.sketch.mark_unavailable();
    }
  }
  return a;
}

std::optional<std::string> merge_chunks(std::string_view a, std::string_view b) {
  ChunkReader ra(a);
  ChunkReader rb(b);
  ChunkWriter w;
  SlotView sa;
  SlotView sb;
  bool ha = ra.next(sa);
  bool hb = rb.next(sb);
  while (ha || hb) {
    if (hb && (!ha || sb.slot < sa.slot)) {
      w.add(sb);
      hb = rb.next(sb);
    } else if (ha && (!hb || sa.slot < sb.slot)) {
      w.add(sa);
      ha = ra.next(sa);
    } else {
      Aggregate merged = to_aggregate(sa, true);
      merged.merge(to_aggregate(sb, true));
      w.add(sa.slot, merged);
      ha = ra.next(sa);
      hb = rb.next(sb);
    }
  }
  if (!ra.ok() || !rb.ok()) return std::nullopt;
  return w.take();
}

}  // namespace mailtally::metrics
