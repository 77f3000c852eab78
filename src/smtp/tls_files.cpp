#include "smtp/tls_files.hpp"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace mailtally::smtp {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("SMTP TLS certificate: " + what);
}

bool plain_host_name(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Writes with `write(FILE*)` into `path` + ".tmp" (mode 0600), then renames it over `path`.
template <class Write>
void write_file(const std::filesystem::path& path, Write write) {
  std::string tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail("cannot create " + tmp);
  FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    fail("cannot open " + tmp);
  }
  bool ok = write(f) == 1;
  ok = std::fflush(f) == 0 && ok;
  ok = ::fsync(::fileno(f)) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) fail("cannot write " + tmp);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail("cannot rename " + tmp + ": " + ec.message());
}

}  // namespace

TlsFiles ensure_self_signed(const std::string& data_dir, const std::string& hostname) {
  std::filesystem::path dir(data_dir);
  TlsFiles files{(dir / "smtp-tls-cert.pem").string(), (dir / "smtp-tls-key.pem").string(), false};
  if (std::filesystem::exists(files.cert_file) && std::filesystem::exists(files.key_file)) {
    return files;
  }
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) fail("key generation failed");
  X509Ptr cert(X509_new());
  BnPtr serial(BN_new());
  if (!cert || !serial) fail("out of memory");
  bool ok = X509_set_version(cert.get(), 2) == 1 &&
            BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
            BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) != nullptr &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600) != nullptr &&
            X509_set_pubkey(cert.get(), key.get()) == 1;
  std::string cn = plain_host_name(hostname) ? hostname : std::string("localhost");
  X509_NAME* name = X509_get_subject_name(cert.get());
  ok = ok &&
       X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>("mailtally"), -1, -1,
                                  0) == 1 &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                  0) == 1 &&
       X509_set_issuer_name(cert.get(), name) == 1;
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (cn != "localhost") san = "DNS:" + cn + "," + san;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str()));
  ok = ok && ext && X509_add_ext(cert.get(), ext.get(), -1) == 1;
  ok = ok && X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) fail("building the certificate failed");

  write_file(files.key_file, [&](FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  write_file(files.cert_file, [&](FILE* f) { return PEM_write_X509(f, cert.get()); });
  files.created = true;
  return files;
}

}  // namespace mailtally::smtp
