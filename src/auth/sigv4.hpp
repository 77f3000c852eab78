// AWS Signature Version 4 verification (header form and presigned-query form).
//
// Pure and thread-safe: all state comes in through the arguments. Reference:
// ../shared/spec/ses-event-publishing.md section 12.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/expected.hpp"
#include "http/message.hpp"

namespace mailtally::auth {

struct Credential {
  std::string access_key_id;
  std::string secret_access_key;
  std::string name;  // shown as ses:caller-identity
};

// Looks access keys up. Implementations must be thread-safe.
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  virtual std::optional<Credential> find(std::string_view access_key_id) const = 0;
};

enum class Failure {
  MissingAuthenticationToken,  // no Authorization header and no X-Amz-Algorithm query parameter
  IncompleteSignature,         // a signature is there but a part is missing or malformed
  InvalidClientTokenId,        // the access key id is unknown
  SignatureDoesNotMatch,       // recomputed signature differs (or wrong service in the scope)
  RequestExpired,              // more than 15 minutes of skew, or a presigned URL expired
};

struct AuthError {
  Failure failure;
  std::string message;  // AWS-like text, safe to return to the caller
};

std::string_view failure_code(Failure f);  // "SignatureDoesNotMatch", ...
int failure_http_status(Failure f);        // 403, or 400 for IncompleteSignature/RequestExpired

struct Identity {
  Credential credential;
  std::string region;   // from the credential scope
  std::string service;  // from the credential scope
};

struct VerifyOptions {
  // Accepted services in the credential scope ("ses", "monitoring"); empty accepts any.
  std::string_view expected_service;
  std::chrono::seconds max_skew{15 * 60};
};

// Verifies `request` (its raw target, headers and body). `now` is injected.
base::Expected<Identity, AuthError> verify(const http::Request& request,
                                           const CredentialSource& credentials,
                                           std::chrono::system_clock::time_point now,
                                           const VerifyOptions& options);

// Exposed for tests and benchmarks: the canonical URI for a raw (encoded) path, as botocore
// builds it for non-S3 services (normalized, then percent-encoded again).
std::string canonical_uri(std::string_view raw_path);
// Canonical query string from a raw query, excluding X-Amz-Signature.
std::string canonical_query(std::string_view raw_query);

// Signs `request` in place with the header form (for tests, benchmarks and our own clients).
// Adds X-Amz-Date and Authorization; signs host, x-amz-date and every x-amz-* / content-type.
void sign(http::Request& request, const Credential& credential, std::string_view region,
          std::string_view service, std::chrono::system_clock::time_point now);

}  // namespace mailtally::auth
