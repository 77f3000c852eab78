// libFuzzer target for auth::verify (and sign/canonical_uri/canonical_query).
//
// Input layout: byte 0 holds flags, the rest is split on '\n':
//   line 1: request target (path?query), line 2: Authorization value,
//   then "name:value" header lines up to an empty line, then the body.
// Flags: bits 0-1 method, bit 2 adds Host, bit 3 adds a valid X-Amz-Date, bit 4 prefixes the
// Authorization with a valid algorithm and credential (to get past the parser quickly), bit 5
// sends an empty Authorization, bit 6 runs the sign()+verify() round trip, which must succeed
// whenever the request is one sign() can express.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/sigv4.hpp"
#include "http/message.hpp"

namespace {

using mailtally::auth::Credential;
using mailtally::auth::CredentialSource;

constexpr std::string_view kAkid = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

class FixedKeys final : public CredentialSource {
 public:
  std::optional<Credential> find(std::string_view id) const override {
    if (id != kAkid) return std::nullopt;
    return Credential{std::string(kAkid), std::string(kSecret), "fuzz"};
  }
};

std::string_view next_line(std::string_view& in) {
  auto nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
  return line;
}

bool token_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && mailtally::http::iequals(s.substr(0, prefix.size()), prefix);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// True when the query carries a presigned-URL parameter (then sign() + verify() is "both").
bool has_presign_parameter(std::string_view q) {
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    std::string key = decode(pair.substr(0, pair.find('=')));
    if (key == "X-Amz-Algorithm" || key == "X-Amz-Credential" || key == "X-Amz-Signature") {
      return true;
    }
    if (amp == std::string_view::npos) break;
    q = q.substr(amp + 1);
  }
  return false;
}

// True when sign() produces a request that verify() must accept.
bool round_trip_applies(const mailtally::http::Request& r) {
  if (has_presign_parameter(r.query())) return false;
  int signed_count = 0;
  for (const auto& [k, v] : r.headers.items()) {
    if (!token_name(k)) return false;
    if (mailtally::http::iequals(k, "x-amz-content-sha256")) return false;
    if (starts_with_ci(k, "x-amz-") || mailtally::http::iequals(k, "content-type")) {
      ++signed_count;
    }
  }
  return signed_count < 32;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  static constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
  mailtally::http::Request r;
  r.method = kMethods[flags & 3];
  r.target = std::string(next_line(in));
  std::string authorization(next_line(in));
  while (!in.empty()) {
    std::string_view line = next_line(in);
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      r.headers.add(std::string(line), "");
    } else {
      r.headers.add(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
    }
  }
  r.body = std::string(in);
  if (flags & 4) r.headers.add("Host", "127.0.0.1:19001");
  if (flags & 8) r.headers.add("X-Amz-Date", "20261129T233810Z");
  if (flags & 16) {
    authorization =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/ses/aws4_request, " +
        authorization;
  }
  if (!authorization.empty() || (flags & 32)) r.headers.add("Authorization", authorization);

  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1796082490));
  FixedKeys keys;
  mailtally::auth::VerifyOptions options;
  options.expected_service = "ses";
  (void)mailtally::auth::verify(r, keys, now, options);
  options.expected_service = "";
  options.max_skew = std::chrono::hours(24 * 365 * 100);
  (void)mailtally::auth::verify(r, keys, now, options);
  (void)mailtally::auth::canonical_uri(r.path());
  (void)mailtally::auth::canonical_query(r.query());

  if ((flags & 64) && round_trip_applies(r)) {
    const Credential cred{std::string(kAkid), std::string(kSecret), "fuzz"};
    mailtally::http::Request s = r;
    mailtally::auth::sign(s, cred, "us-east-1", "ses", now);
    options.expected_service = "ses";
    options.max_skew = std::chrono::minutes(15);
    auto result = mailtally::auth::verify(s, keys, now, options);
    if (!result) __builtin_trap();
  }
  return 0;
}
