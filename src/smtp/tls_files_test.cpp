// The self-signed certificate pair: created once with a usable SAN and a private key file,
// reused after.
#include "smtp/tls_files.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mailtally::smtp {
namespace {

std::string read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(SmtpTlsFiles, CreatedOnceThenReused) {
  char tmpl[] = "/tmp/mt-smtp-tls-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto first = ensure_self_signed(dir, "mx.example.test");
  EXPECT_TRUE(first.created);
  struct stat st {};
  ASSERT_EQ(::stat(first.key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);

  FILE* f = std::fopen(first.cert_file.c_str(), "r");
  ASSERT_NE(f, nullptr);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert, "mx.example.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(cert, "other.test", 0, 0, nullptr), 0);
  X509_free(cert);

  std::string pem = read(first.cert_file);
  auto second = ensure_self_signed(dir, "mx.example.test");
  EXPECT_FALSE(second.created);
  EXPECT_EQ(read(second.cert_file), pem);
  EXPECT_FALSE(std::filesystem::exists(first.cert_file + ".tmp"));
  std::filesystem::remove_all(dir);
}

TEST(SmtpTlsFiles, OddHostNamesAreNotPutInTheCertificate) {
  char tmpl[] = "/tmp/mt-smtp-tls-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto files = ensure_self_signed(dir, "bad,DNS:evil.test");
  FILE* f = std::fopen(files.cert_file.c_str(), "r");
  ASSERT_NE(f, nullptr);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_host(cert, "evil.test", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  X509_free(cert);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mailtally::smtp
