#include "base/ids.hpp"

#include <cstdint>
#include <cstring>
#include <random>

#include "base/crypto.hpp"

namespace mailtally::base {
namespace {

// Request ids need uniqueness, not secrecy: a per-thread 64-bit generator seeded once from the
// system's CSPRNG is enough and avoids a RAND_bytes call (and its getpid) on every request.
std::uint64_t next_random() {
  thread_local std::mt19937_64 engine = [] {
    std::uint64_t seed[2];
    std::string raw = random_bytes(sizeof seed);
    std::memcpy(seed, raw.data(), sizeof seed);
    std::seed_seq seq{seed[0] & 0xffffffff, seed[0] >> 32, seed[1] & 0xffffffff, seed[1] >> 32};
    return std::mt19937_64(seq);
  }();
  return engine();
}

}  // namespace

std::string uuid4() {
  std::uint8_t b[16];
  std::uint64_t hi = next_random(), lo = next_random();
  std::memcpy(b, &hi, 8);
  std::memcpy(b + 8, &lo, 8);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t o = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++o;  // keep the dash
    out[o++] = kDigits[b[i] >> 4];
    out[o++] = kDigits[b[i] & 0xf];
  }
  return out;
}

}  // namespace mailtally::base
