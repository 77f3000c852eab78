// A minimal HTTP(S) POST client over libcurl (kept to http_client.cpp), used by the external
// event destinations (SNS subscribers, EventBridge targets).
//
// Threading: one HttpClient per thread (it keeps one curl handle, so connections to the same
// host are reused); different instances may be used concurrently.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtally::destinations {

struct HttpResult {
  long status = 0;    // HTTP status; 0 when no response arrived
  std::string error;  // transport error (connect, timeout, ...) or empty
  bool ok() const { return status >= 200 && status < 300; }
  std::string describe() const;  // "HTTP 500" or the transport error
};

class HttpClient {
 public:
  // `timeout` bounds a whole request (connect, send, response).
  explicit HttpClient(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` to `url` (http:// or https://) with `headers`; the response body is ignored.
  HttpResult post(const std::string& url,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  std::string_view body);

 private:
  void* curl_;  // CURL*
  std::chrono::milliseconds timeout_;
};

}  // namespace mailtally::destinations
