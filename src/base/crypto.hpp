// Hashing, HMAC, encodings and randomness over OpenSSL. All functions are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailtally::base {

using Digest = std::array<std::uint8_t, 32>;

Digest sha256(std::string_view data);
Digest hmac_sha256(std::string_view key, std::string_view data);
std::string hex(const std::uint8_t* data, std::size_t n);
inline std::string hex(const Digest& d) { return hex(d.data(), d.size()); }
std::string_view as_view(const Digest& d);

std::string base64_encode(std::string_view bytes);
// Standard alphabet with padding; whitespace is not accepted. nullopt on bad input.
std::optional<std::string> base64_decode(std::string_view text);

// Cryptographically strong random bytes.
std::string random_bytes(std::size_t n);
// Random string over [A-Z0-9] (access key ids) or base64-like alphabet (secrets).
std::string random_token(std::size_t n, std::string_view alphabet);

// Constant-time comparison for secrets and signatures.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace mailtally::base
