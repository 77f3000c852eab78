// Signs SNS messages as SNS does (SignatureVersion 1: SHA1withRSA over the canonical string,
// base64), with an RSA key and a self-signed certificate kept in the data dir; the server
// serves the certificate at the SigningCertURL (/_mailtally/sns/signing-cert.pem) so a
// subscriber can verify messages the way SNS's are verified (except that the certificate is
// not issued for sns.amazonaws.com).
//
// Threading: sign() may be called from any thread at once; immutable after open().
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace mailtally::destinations {

class SnsSigner {
 public:
  // Loads DIR/sns-signing-key.pem and DIR/sns-signing-cert.pem, creating both (RSA 2048, the
  // certificate valid for 10 years, files mode 0600) when either is missing. Throws on failure.
  static std::unique_ptr<SnsSigner> open(const std::string& dir);
  ~SnsSigner();

  std::string sign(std::string_view string_to_sign) const;  // base64 SHA1withRSA
  const std::string& certificate_pem() const { return certificate_pem_; }

 private:
  SnsSigner() = default;
  void* key_ = nullptr;  // EVP_PKEY*
  std::string certificate_pem_;
};

}  // namespace mailtally::destinations
