#include "destinations/sns_signer.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/crypto.hpp"

namespace mailtally::destinations {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("SNS signing key: " + what);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_private(const std::filesystem::path& p, const std::string& text) {
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) fail("cannot write " + p.string());
  ::chmod(p.c_str(), 0600);
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) fail("cannot write " + p.string());
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// A new RSA key and a self-signed certificate for it, as PEM texts.
std::pair<std::string, std::string> generate() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (!key) fail("cannot generate an RSA key");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("mailtally SNS"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  bool ok = X509_sign(cert, key, EVP_sha256()) > 0;
  BIO* kb = BIO_new(BIO_s_mem());
  BIO* cb = BIO_new(BIO_s_mem());
  ok = ok && PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  ok = ok && PEM_write_bio_X509(cb, cert) == 1;
  std::pair<std::string, std::string> out{bio_text(kb), bio_text(cb)};
  BIO_free(kb);
  BIO_free(cb);
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) fail("cannot create the certificate");
  return out;
}

}  // namespace

std::unique_ptr<SnsSigner> SnsSigner::open(const std::string& dir) {
  const std::filesystem::path key_path = std::filesystem::path(dir) / "sns-signing-key.pem";
  const std::filesystem::path cert_path = std::filesystem::path(dir) / "sns-signing-cert.pem";
  std::string key_pem, cert_pem;
  if (std::filesystem::exists(key_path) && std::filesystem::exists(cert_path)) {
    key_pem = read_file(key_path);
    cert_pem = read_file(cert_path);
  } else {
    std::tie(key_pem, cert_pem) = generate();
    write_private(key_path, key_pem);
    write_private(cert_path, cert_pem);
  }
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) fail("cannot read " + key_path.string());
  std::unique_ptr<SnsSigner> s(new SnsSigner());
  s->key_ = key;
  s->certificate_pem_ = std::move(cert_pem);
  return s;
}

SnsSigner::~SnsSigner() { EVP_PKEY_free(static_cast<EVP_PKEY*>(key_)); }

std::string SnsSigner::sign(std::string_view text) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig;
  std::size_t n = 0;
  bool ok =
      EVP_DigestSignInit(ctx, nullptr, EVP_sha1(), nullptr, static_cast<EVP_PKEY*>(key_)) == 1 &&
      EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size()) == 1;
  if (ok) {
    sig.resize(n);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n,
                        reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
    sig.resize(n);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) fail("signing failed");
  return base::base64_encode(sig);
}

}  // namespace mailtally::destinations
