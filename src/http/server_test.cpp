#include "http/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace mailtally::http {
namespace {

using namespace std::chrono_literals;

// A blocking client socket with a receive timeout, enough to speak HTTP/1.1 by hand.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads more bytes into the pending buffer; false on EOF, error or timeout.
  bool fill() {
    char tmp[4096];
    auto n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    pending_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  // True when the server closed the connection (EOF or reset) with nothing more to read.
  bool closed_by_peer() {
    while (pending_.empty()) {
      char tmp[256];
      auto n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      pending_.append(tmp, static_cast<std::size_t>(n));
    }
    return false;
  }

  // Raw bytes up to and including the first CRLFCRLF.
  std::optional<std::string> read_head() {
    for (;;) {
      auto end = pending_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = pending_.substr(0, end + 4);
        pending_.erase(0, end + 4);
        return head;
      }
      if (!fill()) return std::nullopt;
    }
  }

  struct Reply {
    int status = 0;
    std::string head;
    std::string body;
    std::string header(std::string_view name) const {
      std::string needle = "\r\n" + std::string(name) + ": ";
      auto pos = head.find(needle);
      if (pos == std::string::npos) return "<absent>";
      auto start = pos + needle.size();
      return head.substr(start, head.find("\r\n", start) - start);
    }
  };

  // Reads one response; `head_request` suppresses the body read.
  std::optional<Reply> read_reply(bool head_request = false) {
    auto head = read_head();
    if (!head) return std::nullopt;
    Reply r;
    r.head = std::move(*head);
    if (r.head.size() < 12 || r.head.compare(0, 9, "HTTP/1.1 ") != 0) return std::nullopt;
    r.status = std::stoi(r.head.substr(9, 3));
    std::size_t length = 0;
    if (auto cl = r.header("Content-Length"); cl != "<absent>") length = std::stoul(cl);
    if (head_request) return r;
    while (pending_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    r.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return r;
  }

  const std::string& pending() const { return pending_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

Response text_response(std::string body) {
  Response r;
  r.headers.add("Content-Type", "text/plain");
  r.body = std::move(body);
  return r;
}

// Echoes method and target.
Handler echo_handler() {
  return [](Request& req) { return text_response(req.method + " " + req.target); };
}

ServerOptions test_options() {
  ServerOptions o;
  o.threads = 2;
  return o;
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit = 3000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

TEST(HttpServer, BindsAnEphemeralPort) {
  Server server(test_options(), echo_handler());
  server.start();
  EXPECT_NE(server.port(), 0);
  server.stop();
}

TEST(HttpServer, StopWithoutStartAndTwiceIsSafe) {
  Server never_started(test_options(), echo_handler());
  never_started.stop();
  never_started.stop();

  Server server(test_options(), echo_handler());
  server.start();
  server.stop();
  server.stop();
  // The destructor of a started server stops it too.
  auto other = std::make_unique<Server>(test_options(), echo_handler());
  other->start();
  other.reset();
}

TEST(HttpServer, StartThrowsWhenThePortIsTaken) {
  Server first(test_options(), echo_handler());
  first.start();
  // Listening sockets conflict even with SO_REUSEADDR.
  ServerOptions o = test_options();
  o.port = first.port();
  Server second(o, echo_handler());
  EXPECT_THROW(second.start(), std::runtime_error);
}

TEST(HttpServer, KeepAliveServesTwoRequestsOnOneConnection) {
  Server server(test_options(), echo_handler());
  server.start();
  Client c(server.port());
  ASSERT_TRUE(c.connected());

  ASSERT_TRUE(c.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r1 = c.read_reply();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->body, "GET /one");
  EXPECT_EQ(r1->header("Content-Length"), "8");
  EXPECT_EQ(r1->header("Content-Type"), "text/plain");
  EXPECT_EQ(r1->header("Server"), "mailtally");
  EXPECT_NE(r1->header("Date"), "<absent>");
  EXPECT_EQ(r1->header("Connection"), "<absent>");
  EXPECT_EQ(server.connection_count(), 1u);

  ASSERT_TRUE(c.send("POST /two?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
  auto r2 = c.read_reply();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "POST /two?x=1");
  EXPECT_EQ(server.connection_count(), 1u);
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  Server server(test_options(), echo_handler());
  server.start();
  Client c(server.port());
  std::string batch;
  for (int i = 0; i < 20; ++i) {
    batch += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  batch += "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  batch += "GET /last HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(c.send(batch));
  for (int i = 0; i < 20; ++i) {
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "GET /" + std::to_string(i));
  }
  auto body = c.read_reply();
  ASSERT_TRUE(body);
  EXPECT_EQ(body->body, "POST /body");
  auto last = c.read_reply();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, "GET /last");
}

TEST(HttpServer, ManyPipelinedRequestsAndByteByByteInput) {
  Server server(test_options(), echo_handler());
  server.start();
  {
    Client c(server.port());
    std::string batch;
    for (int i = 0; i < 3000; ++i) {
      batch += "GET /p" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    }
    std::thread writer([&] { c.send(batch); });
    for (int i = 0; i < 3000; ++i) {
      auto r = c.read_reply();
      ASSERT_TRUE(r) << i;
      ASSERT_EQ(r->body, "GET /p" + std::to_string(i));
    }
    writer.join();
  }
  {
    Client c(server.port());
    const std::string req =
        "POST /slowly HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbodyGET /next "
        "HTTP/1.1\r\nHost: x\r\n\r\n";
    for (char ch : req) {
      ASSERT_TRUE(c.send(std::string_view(&ch, 1)));
      std::this_thread::sleep_for(200us);
    }
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "POST /slowly");
    auto r2 = c.read_reply();
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->body, "GET /next");
  }
}

TEST(HttpServer, HandlerSeesMethodTargetHeadersBodyAndRemoteAddress) {
  std::mutex mu;
  Request seen;
  Server server(test_options(), [&](Request& req) {
    std::lock_guard lk(mu);
    seen = req;
    return text_response("ok");
  });
  server.start();
  Client c(server.port());
  ASSERT_TRUE(
      c.send("PUT /v2/email/outbound-emails?a=%20b HTTP/1.1\r\nHost: example\r\nX-Amz-Date: "
             "20260101T000000Z\r\nx-dup: 1\r\nContent-Length: 11\r\nX-Dup: 2\r\n\r\nhello world"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  std::lock_guard lk(mu);
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.target, "/v2/email/outbound-emails?a=%20b");
  EXPECT_EQ(seen.path(), "/v2/email/outbound-emails");
  EXPECT_EQ(seen.query(), "a=%20b");
  EXPECT_EQ(seen.body, "hello world");
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
  EXPECT_FALSE(seen.tls);
  const auto& items = seen.headers.items();
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(items[0].first, "Host");
  EXPECT_EQ(items[0].second, "example");
  EXPECT_EQ(items[1].first, "X-Amz-Date");
  EXPECT_EQ(items[2].first, "x-dup");
  EXPECT_EQ(items[3].first, "Content-Length");
  EXPECT_EQ(items[4].second, "2");
  EXPECT_EQ(seen.headers.joined("X-DUP"), "1,2");
}

TEST(HttpServer, ChunkedRequestBodyIsDecoded) {
  std::mutex mu;
  std::string body;
  Server server(test_options(), [&](Request& req) {
    std::lock_guard lk(mu);
    body = req.body;
    return text_response("ok");
  });
  server.start();
  Client c(server.port());
  ASSERT_TRUE(
      c.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
             "world\r\n0\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::lock_guard lk(mu);
  EXPECT_EQ(body, "hello world");
}

TEST(HttpServer, ResponseHeadersAndStatusFromHandlerAreSent) {
  Server server(test_options(), [](Request&) {
    Response r;
    r.status = 404;
    r.headers.add("X-Amzn-ErrorType", "NotFoundException");
    r.headers.add("Content-Length", "999");  // replaced by the real length
    r.headers.add("Server", "custom");
    r.headers.add("Bad", "a\r\nInjected: yes");  // dropped
    r.body = "missing";
    return r;
  });
  server.start();
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->head.substr(0, 24), "HTTP/1.1 404 Not Found\r\n");
  EXPECT_EQ(r->header("X-Amzn-ErrorType"), "NotFoundException");
  EXPECT_EQ(r->header("Content-Length"), "7");
  EXPECT_EQ(r->header("Server"), "custom");
  EXPECT_EQ(r->header("Injected"), "<absent>");
  EXPECT_EQ(r->body, "missing");
}

TEST(HttpServer, HeadSendsLengthButNoBody) {
  Server server(test_options(), [](Request&) { return text_response("0123456789"); });
  server.start();
  Client c(server.port());
  ASSERT_TRUE(c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_reply(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Length"), "10");
  // The next response must follow directly: no body bytes were sent for HEAD.
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto g = c.read_reply();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 200);
  EXPECT_EQ(g->body, "0123456789");
}

TEST(HttpServer, NoContentHasNeitherLengthNorBody) {
  Server server(test_options(), [](Request&) {
    Response r;
    r.status = 204;
    r.body = "ignored";
    return r;
  });
  server.start();
  Client c(server.port());
  ASSERT_TRUE(c.send("DELETE /x HTTP/1.1\r\nHost: x\r\n\r\nGET /y HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->header("Content-Length"), "<absent>");
  auto r2 = c.read_reply();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 204);
}

TEST(HttpServer, LargeResponseBodyArrivesIntact) {
  std::string big(3 * 1024 * 1024 + 17, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
  Server server(test_options(), [&big](Request&) { return text_response(big); });
  server.start();
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  for (int i = 0; i < 2; ++i) {
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body.size(), big.size());
    EXPECT_TRUE(r->body == big);
  }
}

TEST(HttpServer, LargeRequestBodyArrivesIntact) {
  std::mutex mu;
  std::string seen;
  Server server(test_options(), [&](Request& req) {
    std::lock_guard lk(mu);
    seen = std::move(req.body);
    return text_response("ok");
  });
  server.start();
  std::string big(5 * 1024 * 1024, 'y');
  for (std::size_t i = 0; i < big.size(); i += 1000) big[i] = static_cast<char>('a' + i % 26);
  Client c(server.port());
  ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big.size()) +
                     "\r\n\r\n" + big));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::lock_guard lk(mu);
  EXPECT_TRUE(seen == big);
}

TEST(HttpServer, OversizedBodyGets413AndClose) {
  ServerOptions o = test_options();
  o.max_body_bytes = 16;
  std::atomic<int> calls{0};
  Server server(o, [&](Request&) {
    ++calls;
    return text_response("ok");
  });
  server.start();
  {
    Client c(server.port());
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" +
                       std::string(100, 'z')));
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(r->header("Connection"), "close");
    EXPECT_FALSE(r->body.empty());
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    // Chunked bodies are counted as they arrive.
    Client c(server.port());
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                       std::string("a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n")));
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    // Exactly at the limit is fine.
    Client c(server.port());
    ASSERT_TRUE(
        c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n" + std::string(16, 'z')));
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServer, ExpectContinueIsAnswered) {
  Server server(test_options(), [](Request& req) { return text_response(req.body); });
  server.start();
  Client c(server.port());
  ASSERT_TRUE(
      c.send("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto cont = c.read_head();
  ASSERT_TRUE(cont);
  EXPECT_EQ(*cont, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.send("data"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "data");

  // Expect with a body over the limit gets 413 instead of 100.
  ServerOptions o = test_options();
  o.max_body_bytes = 2;
  Server small(o, [](Request& req) { return text_response(req.body); });
  small.start();
  Client c2(small.port());
  ASSERT_TRUE(
      c2.send("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto r2 = c2.read_reply();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 413);
}

TEST(HttpServer, GarbageGets400AndClose) {
  Server server(test_options(), echo_handler());
  server.start();
  for (std::string junk : {std::string("this is not http\r\n\r\n"),
                           std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
                           std::string("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
                           std::string("GET / HTTP/9.9\r\n\r\n")}) {
    Client c(server.port());
    ASSERT_TRUE(c.send(junk));
    auto r = c.read_reply();
    ASSERT_TRUE(r) << junk;
    EXPECT_EQ(r->status, 400) << junk;
    EXPECT_EQ(r->header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_peer()) << junk;
  }
}

TEST(HttpServer, OversizedHeaderGets431) {
  ServerOptions o = test_options();
  o.max_header_bytes = 1024;
  Server server(o, echo_handler());
  server.start();
  {
    Client c(server.port());
    ASSERT_TRUE(
        c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n"));
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    // Many small header lines trickled in one by one count too.
    Client c(server.port());
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n"));
    std::optional<Client::Reply> r;
    for (int i = 0; i < 200 && c.send("X-H" + std::to_string(i) + ": 0123456789\r\n"); ++i) {
      std::this_thread::sleep_for(1ms);
    }
    r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
  }
}

TEST(HttpServer, Http10ClosesUnlessKeepAliveAsked) {
  Server server(test_options(), echo_handler());
  server.start();
  {
    Client c(server.port());
    ASSERT_TRUE(c.send("GET /old HTTP/1.0\r\n\r\n"));
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "GET /old");
    EXPECT_EQ(r->header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    Client c(server.port());
    ASSERT_TRUE(c.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("Connection"), "keep-alive");
    ASSERT_TRUE(c.send("GET /b HTTP/1.0\r\n\r\n"));
    auto r2 = c.read_reply();
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->body, "GET /b");
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    // HTTP/1.1 with Connection: close.
    Client c(server.port());
    ASSERT_TRUE(c.send("GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_peer());
  }
}

TEST(HttpServer, HandlerAskingForCloseClosesTheConnection) {
  Server server(test_options(), [](Request&) {
    Response r = text_response("bye");
    r.headers.add("Connection", "close");
    return r;
  });
  server.start();
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(HttpServer, HandlerExceptionGives500) {
  Server server(test_options(), [](Request& req) -> Response {
    if (req.target == "/throw") throw std::runtime_error("boom");
    return text_response("fine");
  });
  server.start();
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  ASSERT_TRUE(c.send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r2 = c.read_reply();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "fine");
}

TEST(HttpServer, IdleAndHeaderTimeoutsCloseConnections) {
  ServerOptions o = test_options();
  o.idle_timeout = 150ms;
  o.header_timeout = 150ms;
  Server server(o, echo_handler());
  server.start();
  {
    Client c(server.port());
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(c.read_reply());
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.closed_by_peer());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  }
  {
    Client c(server.port());
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHo"));
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.closed_by_peer());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  }
  EXPECT_TRUE(wait_for([&] { return server.connection_count() == 0; }));
}

TEST(HttpServer, BodyTimeoutClosesSlowUploads) {
  ServerOptions o = test_options();
  o.body_timeout = 150ms;
  Server server(o, echo_handler());
  server.start();
  Client c(server.port());
  ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(HttpServer, ConnectionLimitClosesExtraSockets) {
  ServerOptions o = test_options();
  o.max_connections = 2;
  Server server(o, echo_handler());
  server.start();
  std::optional<Client> a(std::in_place, server.port());
  Client b(server.port());
  ASSERT_TRUE(a->send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(b.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(a->read_reply());
  ASSERT_TRUE(b.read_reply());
  EXPECT_EQ(server.connection_count(), 2u);

  {
    Client extra(server.port());
    ASSERT_TRUE(extra.connected());  // the kernel completes the handshake before accept()
    extra.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(extra.closed_by_peer());
    EXPECT_EQ(server.connection_count(), 2u);
  }

  // Once one closes, new connections are served again.
  a.reset();
  ASSERT_TRUE(wait_for([&] { return server.connection_count() == 1; }));
  Client again(server.port());
  ASSERT_TRUE(again.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = again.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /again");
}

TEST(HttpServer, GracefulStopFinishesInFlightRequestAndClosesIdle) {
  std::promise<void> entered;
  std::atomic<bool> entered_once{false};
  Server server(test_options(), [&](Request& req) {
    if (req.target == "/slow") {
      if (!entered_once.exchange(true)) entered.set_value();
      std::this_thread::sleep_for(400ms);
    }
    return text_response("done " + req.target);
  });
  server.start();

  Client idle(server.port());
  ASSERT_TRUE(idle.send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle.read_reply());

  Client slow(server.port());
  ASSERT_TRUE(slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  entered.get_future().wait();

  auto t0 = std::chrono::steady_clock::now();
  std::thread stopper([&] { server.stop(5000ms); });

  // The idle keep-alive connection closes at once.
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 300ms);

  // The in-flight request completes, marked as the last one.
  auto r = slow.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "done /slow");
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(slow.closed_by_peer());

  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3000ms);
  EXPECT_EQ(server.connection_count(), 0u);

  // No longer accepting.
  Client late(server.port());
  EXPECT_TRUE(!late.connected() || late.closed_by_peer());
}

TEST(HttpServer, StopClosesEverythingAfterGrace) {
  std::atomic<bool> release{false};
  Server server(test_options(), [&](Request&) {
    for (int i = 0; i < 300 && !release; ++i) std::this_thread::sleep_for(10ms);
    return text_response("late");
  });
  server.start();
  // A request head that never completes: mid-request, so it gets the grace period.
  Client partial(server.port());
  ASSERT_TRUE(partial.send("GET / HTTP/1.1\r\nHost"));
  ASSERT_TRUE(wait_for([&] { return server.connection_count() == 1; }));
  // Until the server has read those bytes the connection is indistinguishable from an idle one
  // (which stop() closes at once), and nothing observable tells when it has: give the worker
  // time to read them. Without this the test failed about one run in eight under load.
  std::this_thread::sleep_for(150ms);

  auto t0 = std::chrono::steady_clock::now();
  server.stop(200ms);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 2000ms);
  EXPECT_EQ(server.connection_count(), 0u);
  EXPECT_TRUE(partial.closed_by_peer());
  release = true;
}

// A handler that parks /park requests (answered later from the test thread) and answers
// everything else at once.
struct Parking {
  std::mutex mu;
  std::vector<std::shared_ptr<Deferred>> parked;

  Handler handler() {
    return [this](Request& req) {
      if (req.target != "/park") return text_response("now " + req.target);
      Response r;
      r.deferred = std::make_shared<Deferred>();
      std::lock_guard lock(mu);
      parked.push_back(r.deferred);
      return r;
    };
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return parked.size();
  }
  void complete_all(const std::string& body) {
    std::lock_guard lock(mu);
    for (auto& d : parked) d->complete([body] { return text_response(body); });
    parked.clear();
  }
};

TEST(HttpServer, ParkedResponsesDoNotBlockTheWorker) {
  ServerOptions o = test_options();
  o.threads = 1;
  Parking parking;
  Server server(o, parking.handler());
  server.start();
  Client a(server.port());
  Client b(server.port());
  ASSERT_TRUE(a.send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(wait_for([&] { return parking.count() == 1; }));
  // The only worker thread is free: another connection is answered while /park waits.
  ASSERT_TRUE(b.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto rb = b.read_reply();
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->body, "now /b");
  parking.complete_all("finished later");
  auto ra = a.read_reply();
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->status, 200);
  EXPECT_EQ(ra->body, "finished later");
}

TEST(HttpServer, PipelinedRequestsBehindAParkedOneKeepTheirOrder) {
  Parking parking;
  Server server(test_options(), parking.handler());
  server.start();
  Client c(server.port());
  ASSERT_TRUE(
      c.send("GET /park HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(wait_for([&] { return parking.count() == 1; }));
  parking.complete_all("first");
  auto r1 = c.read_reply();
  auto r2 = c.read_reply();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->body, "first");
  EXPECT_EQ(r2->body, "now /second");
}

TEST(HttpServer, ACompletionThatThrowsAnswers500) {
  Server server(test_options(), [](Request&) {
    Response r;
    r.deferred = std::make_shared<Deferred>();
    r.deferred->complete([]() -> Response { throw std::runtime_error("boom"); });
    return r;
  });
  server.start();
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
}

TEST(HttpServer, StopWaitsForParkedResponses) {
  Parking parking;
  Server server(test_options(), parking.handler());
  server.start();
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(wait_for([&] { return parking.count() == 1; }));
  std::thread stopper([&] { server.stop(5000ms); });
  std::this_thread::sleep_for(100ms);
  parking.complete_all("answered during stop");
  auto r = c.read_reply();
  stopper.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "answered during stop");
  EXPECT_EQ(r->header("Connection"), "close");
}

}  // namespace
}  // namespace mailtally::http
