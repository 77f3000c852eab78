// The SMTP server's certificate and key files: the configured ones, or a self-signed pair
// created with the OpenSSL API in the data dir at first start and reused after.
#pragma once

#include <string>

namespace mailtally::smtp {

struct TlsFiles {
  std::string cert_file, key_file;  // PEM
  bool created = false;             // made by this call
};

// Returns <data_dir>/smtp-tls-cert.pem and smtp-tls-key.pem, creating them when either is
// missing: an ECDSA P-256 key (file mode 0600) and a certificate valid for 10 years, subject
// CN=<hostname>, subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1 (and DNS:<hostname> when it
// is a plain host name). Files are written under temporary names and renamed, so a crash never
// leaves half a pair. Throws std::runtime_error on failure.
TlsFiles ensure_self_signed(const std::string& data_dir, const std::string& hostname);

}  // namespace mailtally::smtp
