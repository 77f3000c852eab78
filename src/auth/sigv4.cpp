// AWS Signature Version 4 verification and signing. See sigv4.hpp and spec section 12.
//
// The canonical request follows botocore for non-S3 services (auth.py SigV4Auth), which the
// captured AWS CLI v1/v2 and JS SDK requests in design/stack-notes.md section 8 agree with:
// - canonical URI: the raw (already encoded) path with dot segments and empty segments removed
//   (utils.remove_dot_segments), then percent-encoded again keeping only A-Za-z0-9-_.~ and '/';
// - canonical query: each key and value decoded, then encoded with A-Za-z0-9-_.~, pairs sorted;
// - canonical headers: the SignedHeaders list as received, each value trimmed with whitespace
//   runs collapsed, repeated headers joined with ',';
// - payload: the X-Amz-Content-SHA256 header when present, else hex SHA-256 of the body.
#include "auth/sigv4.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/crypto.hpp"
#include "base/time_format.hpp"

namespace mailtally::auth {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::size_t kMaxAuthorizationSize = 4096;
constexpr std::size_t kMaxSignedHeaders = 64;
constexpr long long kMaxPresignExpires = 604800;  // one week, as AWS
constexpr std::size_t kSigningKeyCacheSize = 256;

constexpr std::string_view kMismatchMessage =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

base::Unexpected<AuthError> fail(Failure f, std::string message) {
  return base::unexpected(AuthError{f, std::move(message)});
}

// ---- character helpers -------------------------------------------------------------------

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-encodes every byte outside the unreserved set (upper-case hex, as Python's quote).
void append_encoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
}

// Decodes %XX escapes; a '%' not followed by two hex digits stays literal (as Python's unquote).
// '+' stays '+': query strings are not form bodies.
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// Re-encodes a query component: decode, then encode with the unreserved set.
void append_reencoded(std::string& out, std::string_view s) {
  if (s.find('%') == std::string_view::npos) {
    append_encoded(out, s);
  } else {
    append_encoded(out, percent_decode(s));
  }
}

// Calls f(key, value) for each raw (still encoded) pair of a query string; empty pairs skipped.
template <class F>
void for_each_query_pair(std::string_view query, F&& f) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      f(pair, std::string_view{});
    } else {
      f(pair.substr(0, eq), pair.substr(eq + 1));
    }
  }
}

bool key_is(std::string_view raw_key, std::string_view name) {
  if (raw_key.find('%') == std::string_view::npos) return raw_key == name;
  return percent_decode(raw_key) == name;
}

std::string canonical_query_impl(std::string_view raw_query) {
  if (raw_query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> pairs;
  for_each_query_pair(raw_query, [&](std::string_view k, std::string_view v) {
    if (key_is(k, "X-Amz-Signature")) return;
    std::pair<std::string, std::string> p;
    append_reencoded(p.first, k);
    append_reencoded(p.second, v);
    pairs.push_back(std::move(p));
  });
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

// ---- time --------------------------------------------------------------------------------

// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
void civil_from_days(long long z, long long& y, unsigned& m, unsigned& d) {
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<long long>(yoe) + era * 400 + (m <= 2);
}

void append_digits(std::string& out, long long v, int width) {
  char buf[24];
  int n = 0;
  if (v < 0) v = 0;  // years before 0 cannot be written in the basic format
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0 && n < 20);
  for (int i = n; i < width; ++i) out.push_back('0');
  while (n > 0) out.push_back(buf[--n]);
}

// 20261129T233810Z
std::string format_amz_date(long long epoch) {
  long long days = epoch >= 0 ? epoch / 86400 : (epoch - 86399) / 86400;
  long long secs = epoch - days * 86400;
  long long y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  std::string out;
  out.reserve(16);
  append_digits(out, y, 4);
  append_digits(out, m, 2);
  append_digits(out, d, 2);
  out.push_back('T');
  append_digits(out, secs / 3600, 2);
  append_digits(out, secs / 60 % 60, 2);
  append_digits(out, secs % 60, 2);
  out.push_back('Z');
  return out;
}

long long epoch_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

// RFC 1123 date ("Sun, 29 Nov 2026 23:38:10 GMT"); botocore writes "... -0000" (formatdate).
std::optional<long long> parse_http_date(std::string_view s) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  s = trim(s);
  if (auto comma = s.find(','); comma != std::string_view::npos) s = trim(s.substr(comma + 1));
  // "29 Nov 2026 23:38:10 GMT"
  std::array<std::string_view, 5> parts;
  std::size_t n = 0;
  while (!s.empty()) {
    auto sp = s.find(' ');
    std::string_view token = s.substr(0, sp);
    s = sp == std::string_view::npos ? std::string_view{} : trim(s.substr(sp));
    if (n == parts.size()) return std::nullopt;
    parts[n++] = token;
  }
  if (n < 4) return std::nullopt;
  if (n == 5 && parts[4] != "GMT" && parts[4] != "UTC" && parts[4] != "UT" && parts[4] != "Z" &&
      parts[4] != "+0000" && parts[4] != "-0000") {
    return std::nullopt;
  }
  std::string day(parts[0]);
  std::string_view mon = parts[1], year = parts[2], hms = parts[3];
  if (day.size() == 1) day.insert(day.begin(), '0');
  int month = 0;
  for (int i = 0; i < 12; ++i) {
    if (mon == kMonths[i]) month = i + 1;
  }
  if (month == 0 || day.size() != 2 || year.size() != 4 || hms.size() != 8 || hms[2] != ':' ||
      hms[5] != ':') {
    return std::nullopt;
  }
  std::string basic(year);
  append_digits(basic, month, 2);
  basic += day;
  basic.push_back('T');
  basic += hms.substr(0, 2);
  basic += hms.substr(3, 2);
  basic += hms.substr(6, 2);
  basic.push_back('Z');
  return base::parse_amz_date(basic);
}

// ---- hashing -----------------------------------------------------------------------------
//
// base::sha256/hmac_sha256 go through OpenSSL 3's one-shot calls, which look the algorithm up
// (under a global read lock) and allocate a context on every call; that is most of the cost of a
// verification. Here the digest is fetched once and each thread reuses one context.

const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    return fetched ? fetched : EVP_sha256();
  }();
  return md;
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {}
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  bool init() {
    ok_ = ctx_ != nullptr && EVP_DigestInit_ex2(ctx_, sha256_md(), nullptr) == 1;
    return ok_;
  }
  void update(const void* data, std::size_t n) {
    if (ok_ && n > 0) ok_ = EVP_DigestUpdate(ctx_, data, n) == 1;
  }
  void update(std::string_view s) { update(s.data(), s.size()); }
  bool final(base::Digest& out) {
    unsigned int n = 0;
    if (ok_) ok_ = EVP_DigestFinal_ex(ctx_, out.data(), &n) == 1 && n == out.size();
    return ok_;
  }

 private:
  EVP_MD_CTX* ctx_;
  bool ok_ = false;
};

Sha256& thread_sha256() {
  thread_local Sha256 h;
  return h;
}

base::Digest sha256(std::string_view data) {
  Sha256& h = thread_sha256();
  base::Digest d;
  if (h.init()) {
    h.update(data);
    if (h.final(d)) return d;
  }
  return base::sha256(data);  // only if OpenSSL failed to allocate
}

// HMAC-SHA256 (RFC 2104) over the reusable context.
base::Digest hmac_sha256(std::string_view key, std::string_view data) {
  constexpr std::size_t kBlock = 64;
  base::Digest hashed_key;
  if (key.size() > kBlock) {
    hashed_key = sha256(key);
    key = base::as_view(hashed_key);
  }
  std::array<std::uint8_t, kBlock> ipad, opad;
  ipad.fill(0x36);
  opad.fill(0x5c);
  for (std::size_t i = 0; i < key.size(); ++i) {
    ipad[i] ^= static_cast<std::uint8_t>(key[i]);
    opad[i] ^= static_cast<std::uint8_t>(key[i]);
  }
  Sha256& h = thread_sha256();
  base::Digest inner, outer;
  bool ok = h.init();
  h.update(ipad.data(), ipad.size());
  h.update(data);
  ok = ok && h.final(inner) && h.init();
  h.update(opad.data(), opad.size());
  h.update(inner.data(), inner.size());
  if (ok && h.final(outer)) return outer;
  return base::hmac_sha256(key, data);
}

base::Digest derive_signing_key(std::string_view secret, std::string_view date,
                                std::string_view region, std::string_view service) {
  std::string k = "AWS4";
  k += secret;
  base::Digest d = hmac_sha256(k, date);
  d = hmac_sha256(base::as_view(d), region);
  d = hmac_sha256(base::as_view(d), service);
  return hmac_sha256(base::as_view(d), kTerminator);
}

void append_sized(std::string& out, std::string_view s) {
  auto n = static_cast<std::uint32_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out += s;
}

// kSigning is per secret, date, region and service: cache it per thread (no locking on the hot
// path). The cache is bounded; when full it starts over.
base::Digest signing_key(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service) {
  thread_local std::unordered_map<std::string, base::Digest> cache;
  thread_local std::string key;
  key.clear();
  append_sized(key, secret);
  append_sized(key, date);
  append_sized(key, region);
  append_sized(key, service);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() >= kSigningKeyCacheSize) cache.clear();
  base::Digest d = derive_signing_key(secret, date, region, service);
  cache.emplace(key, d);
  return d;
}

// ---- canonical request -------------------------------------------------------------------

// Appends trimall(value): trimmed, inner whitespace runs collapsed to one space.
void append_trimmed(std::string& out, std::string_view v) {
  v = trim(v);
  bool in_space = false;
  for (char c : v) {
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
}

// `signed_names` are lower case, in the order of the SignedHeaders list received.
std::string canonical_request(std::string_view method, std::string_view raw_path,
                              std::string_view raw_query, const http::Headers& headers,
                              const std::vector<std::string>& signed_names,
                              std::string_view signed_headers_line, std::string_view payload_hash) {
  std::string out;
  out.reserve(256 + raw_path.size() + raw_query.size());
  out += method;
  out.push_back('\n');
  out += canonical_uri(raw_path);
  out.push_back('\n');
  out += canonical_query_impl(raw_query);
  out.push_back('\n');
  for (const auto& name : signed_names) {
    out += name;
    out.push_back(':');
    bool first = true;
    for (const auto& [k, v] : headers.items()) {
      if (!http::iequals(k, name)) continue;
      if (!first) out.push_back(',');
      first = false;
      append_trimmed(out, v);
    }
    out.push_back('\n');
  }
  out.push_back('\n');
  out += signed_headers_line;
  out.push_back('\n');
  out += payload_hash;
  return out;
}

std::string compute_signature(const base::Digest& key, std::string_view amz_date,
                              std::string_view scope, std::string_view creq) {
  std::string sts;
  sts.reserve(kAlgorithm.size() + amz_date.size() + scope.size() + 70);
  sts += kAlgorithm;
  sts.push_back('\n');
  sts += amz_date;
  sts.push_back('\n');
  sts += scope;
  sts.push_back('\n');
  sts += base::hex(sha256(creq));
  return base::hex(hmac_sha256(base::as_view(key), sts));
}

// ---- parsing -----------------------------------------------------------------------------

// A printable, bounded excerpt of client input for error messages.
std::string excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  if (s.size() > 64) out += "...";
  return out;
}

struct Parsed {
  std::string credential;      // AKID/YYYYMMDD/region/service/aws4_request
  std::string signed_headers;  // a;b;c
  std::string signature;       // hex
  bool presigned = false;
  std::optional<long long> expires;  // presigned X-Amz-Expires
  std::string amz_date;              // presigned X-Amz-Date (the header form reads headers)
};

struct Scope {
  std::string_view access_key, date, region, service;
  std::string_view text;  // date/region/service/aws4_request
};

std::optional<AuthError> parse_authorization_header(std::string_view value, bool has_date,
                                                    Parsed& out) {
  if (value.size() > kMaxAuthorizationSize) {
    return AuthError{Failure::IncompleteSignature, "Authorization header is too long."};
  }
  value = trim(value);
  auto sp = value.find_first_of(" \t");
  std::string_view algorithm = value.substr(0, sp);
  std::string_view rest = sp == std::string_view::npos ? std::string_view{} : value.substr(sp);
  if (algorithm != kAlgorithm) {
    if (algorithm.starts_with("AWS4-")) {
      return AuthError{Failure::IncompleteSignature,
                       "Unsupported AWS 'algorithm': '" + excerpt(algorithm) + "'."};
    }
    rest = {};  // report every part as missing, as AWS does for e.g. "Bearer ..."
  }
  bool have_credential = false, have_signed = false, have_signature = false;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view part = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      return AuthError{Failure::IncompleteSignature,
                       "'" + excerpt(part) +
                           "' not a valid key=value pair (missing equal-sign) in Authorization "
                           "header."};
    }
    std::string_view k = trim(part.substr(0, eq));
    std::string_view v = trim(part.substr(eq + 1));
    bool* seen = nullptr;
    std::string* target = nullptr;
    if (k == "Credential") {
      seen = &have_credential;
      target = &out.credential;
    } else if (k == "SignedHeaders") {
      seen = &have_signed;
      target = &out.signed_headers;
    } else if (k == "Signature") {
      seen = &have_signature;
      target = &out.signature;
    } else {
      continue;  // unknown components are ignored
    }
    if (*seen) {
      return AuthError{Failure::IncompleteSignature,
                       "Authorization header has a duplicate '" + std::string(k) + "' parameter."};
    }
    *seen = true;
    *target = v;
  }
  std::string missing;
  auto require = [&](bool have, std::string_view name) {
    if (have) return;
    if (!missing.empty()) missing.push_back(' ');
    missing += "Authorization header requires '";
    missing += name;
    missing += "' parameter.";
  };
  require(have_credential, "Credential");
  require(have_signature, "Signature");
  require(have_signed, "SignedHeaders");
  if (!has_date) {
    if (!missing.empty()) missing.push_back(' ');
    missing +=
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.";
  }
  if (!missing.empty()) return AuthError{Failure::IncompleteSignature, std::move(missing)};
  return std::nullopt;
}

std::optional<AuthError> parse_presigned_query(std::string_view query, Parsed& out) {
  out.presigned = true;
  bool have_algorithm = false, have_credential = false, have_date = false, have_signed = false,
       have_signature = false;
  std::string expires;
  bool have_expires = false;
  std::string algorithm;
  for_each_query_pair(query, [&](std::string_view rk, std::string_view rv) {
    if (!rk.starts_with("X-Amz-") && rk.find('%') == std::string_view::npos) {
      return;
    }
    std::string k = percent_decode(rk);
    auto take = [&](std::string_view name, bool& have, std::string& dst) {
      if (k != name || have) return;
      have = true;
      dst = percent_decode(rv);
    };
    take("X-Amz-Algorithm", have_algorithm, algorithm);
    take("X-Amz-Credential", have_credential, out.credential);
    take("X-Amz-Date", have_date, out.amz_date);
    take("X-Amz-SignedHeaders", have_signed, out.signed_headers);
    take("X-Amz-Signature", have_signature, out.signature);
    take("X-Amz-Expires", have_expires, expires);
  });
  std::string missing;
  auto require = [&](bool have, std::string_view name) {
    if (have) return;
    if (!missing.empty()) missing += ", ";
    missing += "'";
    missing += name;
    missing += "'";
  };
  require(have_algorithm, "X-Amz-Algorithm");
  require(have_credential, "X-Amz-Credential");
  require(have_signature, "X-Amz-Signature");
  require(have_date, "X-Amz-Date");
  require(have_signed, "X-Amz-SignedHeaders");
  if (!missing.empty()) {
    return AuthError{Failure::IncompleteSignature, "AWS query-string parameters must include " +
                                                       missing +
                                                       ". Re-examine the query-string parameters."};
  }
  if (algorithm != kAlgorithm) {
    return AuthError{
        Failure::IncompleteSignature,
        "X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256', not '" + excerpt(algorithm) + "'."};
  }
  if (have_expires) {
    if (expires.empty() || expires.size() > 9 ||
        !std::all_of(expires.begin(), expires.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return AuthError{Failure::IncompleteSignature, "X-Amz-Expires should be a number."};
    }
    long long e = std::stoll(expires);
    if (e > kMaxPresignExpires) {
      return AuthError{Failure::IncompleteSignature,
                       "X-Amz-Expires must be less than a week (in seconds) that is 604800."};
    }
    out.expires = e;
  }
  return std::nullopt;
}

std::optional<AuthError> parse_scope(std::string_view credential, Scope& s) {
  std::array<std::string_view, 5> parts;
  std::size_t n = 0;
  std::string_view rest = credential;
  while (true) {
    auto slash = rest.find('/');
    if (n == parts.size()) {
      n = parts.size() + 1;  // too many
      break;
    }
    parts[n++] = rest.substr(0, slash);
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  if (n != parts.size()) {
    return AuthError{Failure::IncompleteSignature,
                     "Credential should be of the form "
                     "'<access key id>/<YYYYMMDD>/<region>/<service>/aws4_request', got '" +
                         excerpt(credential) + "'."};
  }
  s.access_key = parts[0];
  s.date = parts[1];
  s.region = parts[2];
  s.service = parts[3];
  s.text = credential.substr(parts[0].size() + 1);
  if (s.access_key.empty()) {
    return AuthError{Failure::IncompleteSignature, "Credential has no access key id."};
  }
  if (s.date.size() != 8 ||
      !std::all_of(s.date.begin(), s.date.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return AuthError{
        Failure::IncompleteSignature,
        "Credential should be scoped to a valid date (YYYYMMDD), not '" + excerpt(s.date) + "'."};
  }
  if (s.region.empty()) {
    return AuthError{Failure::IncompleteSignature,
                     "Credential should be scoped to a valid region."};
  }
  if (s.service.empty()) {
    return AuthError{Failure::IncompleteSignature,
                     "Credential should be scoped to a valid service."};
  }
  if (parts[4] != kTerminator) {
    return AuthError{Failure::IncompleteSignature,
                     "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                         excerpt(parts[4]) + "'."};
  }
  return std::nullopt;
}

// Splits the SignedHeaders list; names are lower-cased, order kept.
std::optional<AuthError> parse_signed_headers(std::string_view list,
                                              std::vector<std::string>& names) {
  if (list.empty()) {
    return AuthError{Failure::IncompleteSignature, "SignedHeaders must not be empty."};
  }
  bool has_host = false;
  while (true) {
    auto semi = list.find(';');
    std::string_view name = list.substr(0, semi);
    if (name.empty()) {
      return AuthError{Failure::IncompleteSignature, "SignedHeaders contains an empty name."};
    }
    if (names.size() == kMaxSignedHeaders) {
      return AuthError{Failure::IncompleteSignature, "SignedHeaders lists too many headers."};
    }
    names.push_back(lower(name));
    if (names.back() == "host" || names.back() == ":authority") has_host = true;
    if (semi == std::string_view::npos) break;
    list = list.substr(semi + 1);
  }
  if (!has_host) {
    return AuthError{Failure::IncompleteSignature,
                     "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."};
  }
  return std::nullopt;
}

bool service_accepted(std::string_view expected, std::string_view service) {
  if (expected.empty()) return true;
  // A comma-separated list is accepted too ("ses,monitoring").
  while (true) {
    auto comma = expected.find(',');
    if (trim(expected.substr(0, comma)) == service) return true;
    if (comma == std::string_view::npos) return false;
    expected = expected.substr(comma + 1);
  }
}

std::string service_message(std::string_view expected) {
  std::string out = "Credential should be scoped to correct service: ";
  bool first = true;
  while (true) {
    auto comma = expected.find(',');
    if (!first) out += " or ";
    first = false;
    out += "'";
    out += trim(expected.substr(0, comma));
    out += "'";
    if (comma == std::string_view::npos) break;
    expected = expected.substr(comma + 1);
  }
  out += ".";
  return out;
}

std::string skew_text(std::chrono::seconds skew) {
  auto s = skew.count();
  if (s % 60 == 0) return std::to_string(s / 60) + " min.";
  return std::to_string(s) + " sec.";
}

bool is_hex_sha256(std::string_view v) {
  return v.size() == 64 &&
         std::all_of(v.begin(), v.end(), [](char c) { return hex_value(c) >= 0; });
}

}  // namespace

std::string_view failure_code(Failure f) {
  switch (f) {
    case Failure::MissingAuthenticationToken:
      return "MissingAuthenticationToken";
    case Failure::IncompleteSignature:
      return "IncompleteSignature";
    case Failure::InvalidClientTokenId:
      return "InvalidClientTokenId";
    case Failure::SignatureDoesNotMatch:
      return "SignatureDoesNotMatch";
    case Failure::RequestExpired:
      return "RequestExpired";
  }
  return "IncompleteSignature";
}

int failure_http_status(Failure f) {
  switch (f) {
    case Failure::IncompleteSignature:
    case Failure::RequestExpired:
      return 400;
    case Failure::MissingAuthenticationToken:
    case Failure::InvalidClientTokenId:
    case Failure::SignatureDoesNotMatch:
      return 403;
  }
  return 403;
}

std::string canonical_uri(std::string_view raw_path) {
  if (raw_path.empty()) return "/";
  std::string out;
  out.reserve(raw_path.size() + 16);
  if (raw_path.front() == '/') out.push_back('/');
  const std::size_t base = out.size();
  std::size_t segments = 0;
  std::string_view rest = raw_path;
  while (true) {
    auto slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    if (seg == "..") {
      if (segments == 1) {
        out.resize(base);
      } else if (segments > 1) {
        out.resize(out.rfind('/'));  // encoded segments never contain '/'
      }
      if (segments > 0) --segments;
    } else if (!seg.empty() && seg != ".") {
      if (segments > 0) out.push_back('/');
      append_encoded(out, seg);
      ++segments;
    }
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  if (raw_path.back() == '/' && segments > 0) out.push_back('/');
  return out;
}

std::string canonical_query(std::string_view raw_query) { return canonical_query_impl(raw_query); }

base::Expected<Identity, AuthError> verify(const http::Request& request,
                                           const CredentialSource& credentials,
                                           std::chrono::system_clock::time_point now,
                                           const VerifyOptions& options) {
  const std::string_view query = request.query();
  const std::string* authorization = request.headers.find("Authorization");
  if (authorization && trim(*authorization).empty()) authorization = nullptr;

  bool presign_params = false;
  for_each_query_pair(query, [&](std::string_view k, std::string_view) {
    if (key_is(k, "X-Amz-Algorithm") || key_is(k, "X-Amz-Credential") ||
        key_is(k, "X-Amz-Signature")) {
      presign_params = true;
    }
  });

  if (!authorization && !presign_params) {
    return fail(Failure::MissingAuthenticationToken, "Request is missing Authentication Token");
  }
  if (authorization && presign_params) {
    return fail(Failure::IncompleteSignature,
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be "
                "specified");
  }

  Parsed parsed;
  std::string amz_date;  // the request time in basic format, as it goes into the string to sign
  std::optional<long long> request_time;
  if (authorization) {
    const std::string* x_amz_date = request.headers.find("X-Amz-Date");
    const std::string* date = x_amz_date ? nullptr : request.headers.find("Date");
    if (auto e = parse_authorization_header(*authorization, x_amz_date || date, parsed)) {
      return base::unexpected(std::move(*e));
    }
    if (x_amz_date) {
      amz_date = std::string(trim(*x_amz_date));
      request_time = base::parse_amz_date(amz_date);
    } else {
      request_time = parse_http_date(*date);
      if (request_time) amz_date = format_amz_date(*request_time);
    }
    if (!request_time) {
      return fail(Failure::IncompleteSignature,
                  "Date must be in ISO-8601 'basic format' (YYYYMMDD'T'HHMMSS'Z') in X-Amz-Date, "
                  "or RFC 1123 in Date. Got '" +
                      excerpt(x_amz_date ? *x_amz_date : *date) + "'.");
    }
  } else {
    if (auto e = parse_presigned_query(query, parsed)) return base::unexpected(std::move(*e));
    amz_date = parsed.amz_date;
    request_time = base::parse_amz_date(amz_date);
    if (!request_time) {
      return fail(Failure::IncompleteSignature,
                  "X-Amz-Date must be in ISO-8601 'basic format' (YYYYMMDD'T'HHMMSS'Z'). Got '" +
                      excerpt(amz_date) + "'.");
    }
  }

  Scope scope;
  if (auto e = parse_scope(parsed.credential, scope)) return base::unexpected(std::move(*e));
  std::vector<std::string> signed_names;
  signed_names.reserve(8);
  if (auto e = parse_signed_headers(parsed.signed_headers, signed_names)) {
    return base::unexpected(std::move(*e));
  }
  if (!service_accepted(options.expected_service, scope.service)) {
    return fail(Failure::SignatureDoesNotMatch, service_message(options.expected_service));
  }
  if (std::string_view(amz_date).substr(0, 8) != scope.date) {
    return fail(Failure::SignatureDoesNotMatch,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                "from HTTP: '" +
                    excerpt(scope.date) + "' != '" + amz_date.substr(0, 8) + "', from '" +
                    amz_date + "'.");
  }

  // Time window.
  const long long t = *request_time;
  const long long n = epoch_seconds(now);
  const long long skew = options.max_skew.count();
  if (t > n + skew) {
    return fail(Failure::RequestExpired, "Signature not yet current: " + amz_date +
                                             " is still later than " + format_amz_date(n + skew) +
                                             " (" + format_amz_date(n) + " + " +
                                             skew_text(options.max_skew) + ")");
  }
  if (parsed.presigned && parsed.expires) {
    if (n > t + *parsed.expires) return fail(Failure::RequestExpired, "Request has expired.");
  } else if (t < n - skew) {
    return fail(Failure::RequestExpired, "Signature expired: " + amz_date +
                                             " is now earlier than " + format_amz_date(n - skew) +
                                             " (" + format_amz_date(n) + " - " +
                                             skew_text(options.max_skew) + ")");
  }

  std::optional<Credential> credential = credentials.find(scope.access_key);
  if (!credential) {
    return fail(Failure::InvalidClientTokenId,
                "The security token included in the request is invalid.");
  }

  // Payload hash.
  const std::string* declared = request.headers.find("X-Amz-Content-SHA256");
  std::string payload_hash;
  if (declared) {
    payload_hash = std::string(trim(*declared));
    if (is_hex_sha256(payload_hash) &&
        !base::constant_time_equal(lower(payload_hash), base::hex(sha256(request.body)))) {
      return fail(Failure::SignatureDoesNotMatch,
                  "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
  } else {
    payload_hash = base::hex(sha256(request.body));
  }

  const base::Digest key =
      signing_key(credential->secret_access_key, scope.date, scope.region, scope.service);
  auto matches = [&](std::string_view payload) {
    std::string creq = canonical_request(request.method, request.path(), query, request.headers,
                                         signed_names, parsed.signed_headers, payload);
    return base::constant_time_equal(compute_signature(key, amz_date, scope.text, creq),
                                     parsed.signature);
  };
  bool ok = matches(payload_hash);
  // Presigned URLs may have been signed with UNSIGNED-PAYLOAD instead of the body hash.
  if (!ok && parsed.presigned && !declared) ok = matches(kUnsignedPayload);
  if (!ok) return fail(Failure::SignatureDoesNotMatch, std::string(kMismatchMessage));

  Identity id;
  id.credential = std::move(*credential);
  id.region = std::string(scope.region);
  id.service = std::string(scope.service);
  return id;
}

void sign(http::Request& request, const Credential& credential, std::string_view region,
          std::string_view service, std::chrono::system_clock::time_point now) {
  const std::string amz_date = format_amz_date(epoch_seconds(now));
  request.headers.set("X-Amz-Date", amz_date);

  std::vector<std::string> names{"host"};
  for (const auto& [k, v] : request.headers.items()) {
    std::string name = lower(k);
    if (name == "content-type" || name.starts_with("x-amz-")) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string line;
  for (const auto& name : names) {
    if (!line.empty()) line.push_back(';');
    line += name;
  }

  const std::string* declared = request.headers.find("X-Amz-Content-SHA256");
  const std::string payload =
      declared ? std::string(trim(*declared)) : base::hex(sha256(request.body));

  const std::string date = amz_date.substr(0, 8);
  std::string scope = date;
  scope += '/';
  scope += region;
  scope += '/';
  scope += service;
  scope += '/';
  scope += kTerminator;

  const std::string creq = canonical_request(request.method, request.path(), request.query(),
                                             request.headers, names, line, payload);
  const std::string signature = compute_signature(
      signing_key(credential.secret_access_key, date, region, service), amz_date, scope, creq);
  std::string authorization(kAlgorithm);
  authorization += " Credential=";
  authorization += credential.access_key_id;
  authorization += '/';
  authorization += scope;
  authorization += ", SignedHeaders=";
  authorization += line;
  authorization += ", Signature=";
  authorization += signature;
  request.headers.set("Authorization", std::move(authorization));
}

}  // namespace mailtally::auth
