// For unit tests of PostgreSQL adapters: a fresh, empty database on the test server, dropped at
// the end. The server is the one scripts/pg-test-server.sh started; its admin URL comes from
// $MAILTALLY_TEST_PG, else from the file named by $MAILTALLY_TEST_PG_FILE (ctest's pg fixture
// sets that). Header-only so each test binary carries it without another library.
#pragma once

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "pg/connection.hpp"

namespace mailtally::pg::testing {

inline std::string admin_url() {
  if (const char* url = std::getenv("MAILTALLY_TEST_PG"); url && *url) return url;
  if (const char* file = std::getenv("MAILTALLY_TEST_PG_FILE"); file && *file) {
    std::ifstream in(file);
    std::string url;
    if (std::getline(in, url) && !url.empty()) return url;
  }
  throw std::runtime_error(
      "no PostgreSQL test server: run scripts/pg-test-server.sh start DIR and set "
      "MAILTALLY_TEST_PG to the URL it prints (ctest does this through its pg fixture)");
}

// A URL with the database part of `url` replaced by `database`.
inline std::string with_database(const std::string& url, const std::string& database) {
  auto query = url.find('?');
  std::string base = url.substr(0, query);
  auto slash = base.rfind('/');
  if (slash == std::string::npos || slash < base.find("://") + 3) {
    throw std::runtime_error("not a postgresql:// URL with a database: " + url);
  }
  return base.substr(0, slash + 1) + database +
         (query == std::string::npos ? "" : url.substr(query));
}

class TestDatabase {
 public:
  TestDatabase() : admin_(admin_url()) {
    static std::atomic<int> counter{0};
    name_ = "mt_unit_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    Connection conn(admin_);
    conn.exec(("DROP DATABASE IF EXISTS " + quote_identifier(name_)).c_str());
    conn.exec(("CREATE DATABASE " + quote_identifier(name_)).c_str());
    url_ = with_database(admin_, name_);
  }
  ~TestDatabase() {
    try {
      Connection conn(admin_);
      conn.exec(("DROP DATABASE IF EXISTS " + quote_identifier(name_) + " WITH (FORCE)").c_str());
    } catch (...) {
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& url() const { return url_; }

 private:
  std::string admin_, name_, url_;
};

}  // namespace mailtally::pg::testing
