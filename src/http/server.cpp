// HTTP/1.1 server on Boost.Beast's parser and Asio coroutines.
//
// Design notes:
// - One io_context run by N worker threads. A connection is one coroutine on the plain io_context
//   executor; it never has more than one operation pending, so its code never runs on two threads
//   at once and needs no strand.
// - Requests are parsed with a beast::http::basic_parser subclass that writes straight into a
//   mailtally::http::Request reused for the whole connection (no beast::http::fields, no
//   per-request header-map allocations). Responses are formatted by hand into a reused string.
// - Pipelined requests are parsed from the per-connection flat_buffer one after another; their
//   responses are queued in order and written together before the next socket read.
// - Timeouts: header_timeout from the first byte of a request head (from accept for the first
//   request), body_timeout once the head is complete and for writing a response, idle_timeout
//   while a keep-alive connection waits for its next request. Each connection publishes its
//   current deadline in an atomic; one sweeper timer per server shuts the connections whose
//   deadline passed. (beast::tcp_stream arms and cancels a timer around every read and write,
//   which cost about 15% of the CPU per request for a trivial handler.)
// - Other threads (sweeper, stop()) only ever call shutdown(2) on a connection's descriptor,
//   which makes its pending read or write fail at once. The descriptor is closed only after the
//   connection left the server's list, so they never touch a reused descriptor.
#include "http/server.hpp"
#include "base/thread_name.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

namespace mailtally::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using IoExecutor = asio::io_context::executor_type;
using Strand = asio::strand<IoExecutor>;
using Socket = asio::basic_stream_socket<tcp, IoExecutor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Strand>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Strand>;
// Connections run on the plain io_context executor: each has at most one operation pending, so
// its handlers never run concurrently. The accept loop and the timeout sweeper share a strand.
template <class T = void>
using Task = asio::awaitable<T, IoExecutor>;
template <class T = void>
using StrandTask = asio::awaitable<T, Strand>;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable_t<IoExecutor>{});
constexpr auto kStrandNoThrow = asio::as_tuple(asio::use_awaitable_t<Strand>{});
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kBodyReadChunk = 64 * 1024;
constexpr std::size_t kInlineBodyMax = 16 * 1024;     // larger bodies are written without a copy
constexpr std::size_t kOutFlushAt = 64 * 1024;        // pipelined responses queued before a write
constexpr std::size_t kKeepCapacity = 256 * 1024;     // larger per-connection buffers are released
constexpr std::size_t kBodyReserveMax = 1024 * 1024;  // never trust Content-Length further
constexpr std::size_t kLingerMaxBytes = 1024 * 1024;
constexpr std::chrono::milliseconds kLingerMax{2000};

// ---------------------------------------------------------------------------------------------
// Formatting helpers

// IMF-fixdate of the current second, cached per thread.
std::string_view http_date() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t cached = -1;
  thread_local char text[64];
  thread_local int len = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    len = std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                        tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                        tm.tm_sec);
    cached = now;
  }
  return {text, static_cast<std::size_t>(len)};
}

void append_number(std::string& out, std::size_t v) {
  char digits[24];
  auto r = std::to_chars(digits, digits + sizeof digits, v);
  out.append(digits, r.ptr);
}

void append_status_line(std::string& out, int status) {
  if (status == 200) {
    out.append("HTTP/1.1 200 OK\r\n");
    return;
  }
  auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  if (reason.empty() || reason.front() == '<') reason = "Unknown";
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::size_t>(status));
  out.push_back(' ');
  out.append(reason.data(), reason.size());
  out.append("\r\n");
}

bool has_crlf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// ---------------------------------------------------------------------------------------------
// Request parser writing into a Request

class RequestParser final : public bhttp::basic_parser<true> {
 public:
  explicit RequestParser(Request& req) : req_(req) {}
  int version() const { return version_; }
  bool expect_continue() const { return expect_continue_; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, beast::error_code&) override {
    req_.method.assign(method.data(), method.size());
    req_.target.assign(target.data(), target.size());
    version_ = version;
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(bhttp::field f, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    if (f == bhttp::field::expect && iequals({value.data(), value.size()}, "100-continue")) {
      expect_continue_ = true;
    }
    req_.headers.add(std::string(name.data(), name.size()),
                     std::string(value.data(), value.size()));
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const& length,
                         beast::error_code&) override {
    if (length) {
      req_.body.reserve(
          static_cast<std::size_t>(std::min<std::uint64_t>(*length, kBodyReserveMax)));
    }
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  Request& req_;
  int version_ = 11;
  bool expect_continue_ = false;
};

// ---------------------------------------------------------------------------------------------
// Shared server state

struct Connection;

// Deferred responses completed on other threads (a commit thread finishing a batch of sends),
// handed to the worker threads in bulk: the first completion of a burst posts one drain, the
// ones that follow before it runs only queue. One wake-up per batch instead of one per request.
struct CompletionInbox {
  std::mutex mu;
  std::vector<std::function<void()>> items;  // guarded by mu
  bool drain_posted = false;                 // guarded by mu
};

struct Core {
  ServerOptions opt;
  Handler handler;
  Clock::duration sweep_interval{};

  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> connections{0};

  std::mutex mu;                // guards conns and running
  Connection* conns = nullptr;  // intrusive list of live connections
  unsigned running = 0;         // worker threads still inside io_context::run()
  std::condition_variable cv;   // signalled when running drops to 0

  std::mutex life_mu;  // guards started / stopped (start and stop are not hot)
  bool started = false;
  bool stopped = false;
  std::uint16_t port = 0;

  std::vector<std::thread> threads;
  // Declared last so they are destroyed first: destroying the io_context destroys pending
  // coroutine frames, whose Connections unregister themselves from the members above.
  std::optional<asio::io_context> ioc;
  std::optional<Strand> strand;  // accept loop and sweeper
  std::optional<Acceptor> acceptor;
  std::optional<Timer> sweep_timer;
  // After ioc: queued completions own parked coroutine frames, which must go while the
  // io_context (their sockets' reactor) still exists.
  CompletionInbox inbox;
};

enum class Phase { none, idle, head, body, write };

// One client connection. Owned by its coroutine; listed in Core::conns while alive so that
// stop() and the sweeper can reach it from other threads. Those only ever call shut(), which is
// a plain shutdown(2) on the descriptor: it makes the pending read or write fail at once and is
// safe from any thread because the descriptor is closed only after the connection unlisted.
struct Connection {
  Connection(Core& c, Socket&& s) : core(c), socket(std::move(s)) {
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) {
      auto addr = ep.address();
      if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
        addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
      }
      remote = addr.to_string();
    }
    core.connections.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lk(core.mu);
    next = core.conns;
    if (next) next->prev = this;
    core.conns = this;
  }

  ~Connection() {
    {
      std::lock_guard lk(core.mu);
      if (prev) {
        prev->next = next;
      } else {
        core.conns = next;
      }
      if (next) next->prev = prev;
    }
    core.connections.fetch_sub(1, std::memory_order_relaxed);
    // `socket` closes after this body, i.e. after the connection left the list.
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Any thread, with core.mu held.
  void shut() { ::shutdown(socket.native_handle(), SHUT_RDWR); }

  Task<> loop();
  Task<bool> flush(std::string_view extra = {});
  Task<> close_gracefully(bool linger);
  Task<> send_error(int status);
  // Appends the response head (and a small body) to `out`. Returns whether to keep the connection
  // open; sets `big_body` when the body must be written separately.
  bool append_response(const Response& res, bool head_request, bool keep_alive, int version,
                       std::string_view& big_body);
  void reset_request();
  void set_phase(Phase p);

  Core& core;
  Socket socket;
  beast::flat_buffer buf;
  std::optional<RequestParser> parser;
  Request req;
  std::string out;
  std::string remote;
  Phase phase = Phase::none;

  // Read by the sweeper and stop() on other threads.
  std::atomic<std::int64_t> deadline{0};  // coarse_now_ns() value; 0: none
  std::atomic<bool> idle{false};          // waiting for the first byte of a request

  Connection* prev = nullptr;  // guarded by core.mu
  Connection* next = nullptr;
};

// Deadlines use the coarse monotonic clock (a few ms resolution, cheaper to read twice per
// request); nanoseconds.
std::int64_t coarse_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// A deadline `timeout` from now; 0 (none) for a non-positive timeout or one too large to add
// without overflow.
std::int64_t deadline_after(std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0 || timeout > std::chrono::hours(24 * 365 * 10)) return 0;
  return coarse_now_ns() + std::chrono::nanoseconds(timeout).count();
}

void Connection::set_phase(Phase p) {
  if (p == phase) return;
  phase = p;
  std::chrono::milliseconds timeout{0};
  switch (p) {
    case Phase::idle:
      timeout = core.opt.idle_timeout;
      break;
    case Phase::head:
      timeout = core.opt.header_timeout;
      break;
    case Phase::body:
    case Phase::write:
      timeout = core.opt.body_timeout;
      break;
    case Phase::none:
      break;
  }
  deadline.store(deadline_after(timeout), std::memory_order_relaxed);
}

void Connection::reset_request() {
  req.method.clear();
  req.target.clear();
  req.headers.clear();
  if (req.body.capacity() > kKeepCapacity) {
    std::string().swap(req.body);
  } else {
    req.body.clear();
  }
  req.remote_address = remote;
  req.tls = false;
}

bool Connection::append_response(const Response& res, bool head_request, bool keep_alive,
                                 int version, std::string_view& big_body) {
  int status = res.status;
  if (status < 100 || status > 999) status = 500;
  bool has_date = false;
  bool has_server = false;
  for (const auto& [name, value] : res.headers.items()) {
    if (iequals(name, "Connection")) {
      if (iequals(value, "close")) keep_alive = false;
    }
  }
  append_status_line(out, status);
  for (const auto& [name, value] : res.headers.items()) {
    if (name.empty() || has_crlf(name) || has_crlf(value)) continue;
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
        iequals(name, "Connection")) {
      continue;
    }
    if (!has_date && iequals(name, "Date")) has_date = true;
    if (!has_server && iequals(name, "Server")) has_server = true;
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  }
  // RFC 9110 8.6: no Content-Length (and no body) for 1xx and 204; a 304 has no body either.
  const bool bodyless_status = status < 200 || status == 204 || status == 304;
  if (status != 304 && !bodyless_status) {
    out.append("Content-Length: ");
    append_number(out, res.body.size());
    out.append("\r\n");
  }
  if (!has_date) {
    out.append("Date: ");
    out.append(http_date());
    out.append("\r\n");
  }
  if (!has_server) out.append("Server: mailtally\r\n");
  if (!keep_alive) {
    out.append("Connection: close\r\n");
  } else if (version < 11) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  if (!head_request && !bodyless_status && !res.body.empty()) {
    if (res.body.size() <= kInlineBodyMax) {
      out.append(res.body);
    } else {
      big_body = res.body;
    }
  }
  return keep_alive;
}

// Parks the coroutine until `deferred` is completed, then resumes it on this connection's
// executor. The work guard keeps the worker threads running until then, so a completion that
// arrives during stop() still finds a live executor.
// Runs the queued completions on this worker thread; a large batch is split with the other
// workers. Handlers run inline: this is already a worker thread of the io_context.
void drain(Core& core) {
  std::vector<std::function<void()>> items;
  {
    std::lock_guard lock(core.inbox.mu);
    items.swap(core.inbox.items);
    core.inbox.drain_posted = false;
  }
  constexpr std::size_t kSplitAt = 16;
  if (items.size() >= kSplitAt && core.opt.threads != 1) {
    auto half = std::make_shared<std::vector<std::function<void()>>>(
        std::make_move_iterator(items.begin() + static_cast<std::ptrdiff_t>(items.size() / 2)),
        std::make_move_iterator(items.end()));
    items.resize(items.size() / 2);
    asio::post(*core.ioc, [half] {
      for (auto& f : *half) f();
    });
  }
  for (auto& f : items) f();
}

Task<Deferred::Finisher> wait_for(Core& core, Deferred& deferred) {
  auto executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<IoExecutor>,
                                          void(Deferred::Finisher)>(
      [&core, &deferred, executor](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto guard = std::make_shared<asio::executor_work_guard<IoExecutor>>(executor);
        deferred.on_complete([&core, shared, guard](Deferred::Finisher finish) {
          bool post = false;
          {
            std::lock_guard lock(core.inbox.mu);
            core.inbox.items.emplace_back([shared, guard, finish = std::move(finish)]() mutable {
              (*shared)(std::move(finish));
            });
            post = !std::exchange(core.inbox.drain_posted, true);
          }
          if (post) asio::post(*core.ioc, [&core] { drain(core); });
        });
      },
      asio::use_awaitable_t<IoExecutor>{});
}

Task<bool> Connection::flush(std::string_view extra) {
  set_phase(Phase::write);
  beast::error_code ec;
  if (extra.empty()) {
    auto [e, n] = co_await asio::async_write(socket, asio::buffer(out), kNoThrow);
    ec = e;
  } else {
    std::array<asio::const_buffer, 2> bufs{asio::buffer(out),
                                           asio::buffer(extra.data(), extra.size())};
    auto [e, n] = co_await asio::async_write(socket, bufs, kNoThrow);
    ec = e;
  }
  if (out.capacity() > kKeepCapacity) {
    std::string().swap(out);
  } else {
    out.clear();
  }
  co_return !ec;
}

Task<> Connection::close_gracefully(bool linger) {
  beast::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  // Closing a socket with unread input makes the kernel send RST, which can destroy the response
  // we just sent before the client reads it. Drain (bounded) until the client closes.
  if (linger && !ec && !core.stopping.load(std::memory_order_acquire)) {
    phase = Phase::none;
    const auto linger_for = core.opt.idle_timeout.count() > 0
                                ? std::min(kLingerMax, core.opt.idle_timeout)
                                : kLingerMax;
    deadline.store(deadline_after(linger_for), std::memory_order_relaxed);
    std::size_t drained = 0;
    idle.store(true);
    while (drained < kLingerMaxBytes) {
      buf.clear();
      auto [e, n] = co_await socket.async_read_some(buf.prepare(kReadChunk), kNoThrow);
      if (e) break;
      drained += n;
    }
    idle.store(false);
  }
  // The socket closes when the connection is destroyed, after it left the list.
}

Task<> Connection::send_error(int status) {
  std::string_view text;
  switch (status) {
    case 413:
      text = "Request body too large\n";
      break;
    case 431:
      text = "Request header fields too large\n";
      break;
    default:
      text = "Bad request\n";
      break;
  }
  append_status_line(out, status);
  out.append("Content-Type: text/plain\r\nContent-Length: ");
  append_number(out, text.size());
  out.append("\r\nDate: ");
  out.append(http_date());
  out.append("\r\nServer: mailtally\r\nConnection: close\r\n\r\n");
  out.append(text);
  if (co_await flush()) co_await close_gracefully(true);
}

Task<> Connection::loop() {
  const ServerOptions& opt = core.opt;
  const auto header_limit = static_cast<std::uint32_t>(
      std::min<std::size_t>(opt.max_header_bytes, std::numeric_limits<std::uint32_t>::max()));
  set_phase(Phase::head);
  bool first = true;
  for (;;) {
    reset_request();
    parser.emplace(req);
    parser->header_limit(header_limit);
    parser->body_limit(static_cast<std::uint64_t>(opt.max_body_bytes));
    parser->eager(true);
    std::size_t head_bytes = 0;
    int error_status = 0;

    // Read and parse one request.
    for (;;) {
      bool complete = false;
      while (buf.size() != 0) {
        const bool header_was_done = parser->is_header_done();
        beast::error_code ec;
        const std::size_t n = parser->put(buf.data(), ec);
        buf.consume(n);
        if (!header_was_done) head_bytes += n;
        if (ec == bhttp::error::need_more) {
          if (!parser->is_header_done() && head_bytes + buf.size() > opt.max_header_bytes) {
            error_status = 431;
          }
          break;
        }
        if (ec) {
          error_status = ec == bhttp::error::body_limit     ? 413
                         : ec == bhttp::error::header_limit ? 431
                                                            : 400;
          break;
        }
        if (!header_was_done && parser->is_header_done() && !parser->is_done()) {
          set_phase(Phase::body);
          if (parser->expect_continue() && parser->version() >= 11 && req.body.empty()) {
            out.append("HTTP/1.1 100 Continue\r\n\r\n");
          }
        }
        if (parser->is_done()) {
          complete = true;
          break;
        }
        if (n == 0) break;  // no progress: wait for more input
      }
      if (complete || error_status != 0) break;

      if (!out.empty() && !co_await flush()) co_return;
      const bool idle_wait = !parser->got_some();
      if (idle_wait) {
        if (!first) set_phase(Phase::idle);
        // Pairs with stop(): either it sees `idle` and shuts the socket, or we see `stopping`.
        idle.store(true);
        if (core.stopping.load()) co_return;
      } else {
        set_phase(parser->is_header_done() ? Phase::body : Phase::head);
      }
      auto [ec, n] = co_await socket.async_read_some(
          buf.prepare(parser->is_header_done() ? kBodyReadChunk : kReadChunk), kNoThrow);
      if (idle_wait) idle.store(false, std::memory_order_relaxed);
      if (ec) co_return;  // EOF, reset, timeout or stop: nothing useful to answer
      buf.commit(n);
    }

    if (error_status != 0) {
      co_await send_error(error_status);
      co_return;
    }

    // Handle it.
    const bool head_request = req.method == "HEAD";
    bool keep_alive = parser->keep_alive();
    const int version = parser->version();
    Response res;
    try {
      res = core.handler(req);
      if (res.deferred) {
        std::shared_ptr<Deferred> deferred = std::move(res.deferred);
        set_phase(Phase::none);  // no timeout while the handler's work finishes
        Deferred::Finisher finish = co_await wait_for(core, *deferred);
        res = finish();
      }
    } catch (...) {
      res = Response{};
      res.status = 500;
      res.headers.add("Content-Type", "text/plain");
      res.body = "Internal server error\n";
    }
    if (core.stopping.load(std::memory_order_acquire)) keep_alive = false;
    std::string_view big_body;
    keep_alive = append_response(res, head_request, keep_alive, version, big_body);
    first = false;

    if (!keep_alive) {
      if (co_await flush(big_body)) co_await close_gracefully(buf.size() != 0);
      co_return;
    }
    if ((!big_body.empty() || out.size() >= kOutFlushAt) && !co_await flush(big_body)) co_return;
    if (buf.capacity() > kKeepCapacity && buf.size() == 0) buf.shrink_to_fit();
  }
}

Task<> serve(Core& core, Socket socket) {
  Connection conn(core, std::move(socket));
  co_await conn.loop();
}

StrandTask<> accept_loop(Core& core) {
  for (;;) {
    auto [ec, socket] =
        co_await core.acceptor->async_accept(core.ioc->get_executor(), kStrandNoThrow);
    if (core.stopping.load(std::memory_order_acquire) || !core.acceptor->is_open()) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // Out of descriptors and the like: back off instead of spinning.
      Timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
      co_await pause.async_wait(kStrandNoThrow);
      continue;
    }
    if (core.connections.load(std::memory_order_relaxed) >= core.opt.max_connections) {
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(core.ioc->get_executor(), serve(core, std::move(socket)),
                   [](std::exception_ptr) {});
  }
}

// Enforces the header, body and idle timeouts: every sweep_interval, shuts the connections whose
// deadline passed. One timer for the whole server keeps timers off the per-request path.
StrandTask<> sweep_loop(Core& core) {
  while (!core.stopping.load(std::memory_order_acquire)) {
    core.sweep_timer->expires_after(core.sweep_interval);
    co_await core.sweep_timer->async_wait(kStrandNoThrow);
    if (core.stopping.load(std::memory_order_acquire)) co_return;
    const std::int64_t now = coarse_now_ns();
    std::lock_guard lk(core.mu);
    for (Connection* c = core.conns; c != nullptr; c = c->next) {
      const std::int64_t d = c->deadline.load(std::memory_order_relaxed);
      if (d != 0 && d <= now) {
        c->deadline.store(0, std::memory_order_relaxed);
        c->shut();
      }
    }
  }
}

void run_worker(Core& core) {
  base::name_this_thread("http");
  for (;;) {
    try {
      core.ioc->run();
      break;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "http: worker caught exception: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "http: worker caught unknown exception\n");
    }
  }
  std::lock_guard lk(core.mu);
  if (--core.running == 0) core.cv.notify_all();
}

tcp::endpoint resolve_endpoint(asio::io_context& ioc, const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(host.empty() ? std::string("0.0.0.0") : host, ec);
  if (!ec) return {addr, port};
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    throw std::runtime_error("http: cannot resolve '" + host + "': " + ec.message());
  }
  return results.begin()->endpoint();
}

}  // namespace

struct Server::Impl : Core {};

Server::Server(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->opt = std::move(options);
  impl_->handler = std::move(handler);
  // Timeouts fire up to a quarter of the shortest one late (at most 250 ms, at least 5 ms).
  std::chrono::milliseconds shortest{250 * 4};
  for (auto t : {impl_->opt.header_timeout, impl_->opt.body_timeout, impl_->opt.idle_timeout}) {
    if (t.count() > 0) shortest = std::min(shortest, t);
  }
  impl_->sweep_interval = std::clamp<Clock::duration>(shortest / 4, std::chrono::milliseconds(5),
                                                      std::chrono::milliseconds(250));
}

Server::~Server() {
  try {
    stop();
  } catch (...) {
  }
}

void Server::start() {
  Core& c = *impl_;
  std::lock_guard life(c.life_mu);
  if (c.started || c.stopped) throw std::runtime_error("http: server already started");
  unsigned threads = c.opt.threads != 0 ? c.opt.threads : std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  try {
    c.ioc.emplace(static_cast<int>(threads));
    c.strand.emplace(asio::make_strand(*c.ioc));
    c.acceptor.emplace(*c.strand);
    c.sweep_timer.emplace(*c.strand);
    const tcp::endpoint ep = resolve_endpoint(*c.ioc, c.opt.host, c.opt.port);
    beast::error_code ec;
    auto fail = [&](const char* what) {
      throw std::runtime_error("http: cannot " + std::string(what) + " " + c.opt.host + ":" +
                               std::to_string(c.opt.port) + ": " + ec.message());
    };
    c.acceptor->open(ep.protocol(), ec);
    if (ec) fail("open");
    c.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) fail("set SO_REUSEADDR on");
    c.acceptor->bind(ep, ec);
    if (ec) fail("bind");
    c.acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail("listen on");
    c.port = c.acceptor->local_endpoint(ec).port();
    asio::co_spawn(*c.strand, accept_loop(c), [](std::exception_ptr) {});
    asio::co_spawn(*c.strand, sweep_loop(c), [](std::exception_ptr) {});
  } catch (...) {
    c.sweep_timer.reset();
    c.acceptor.reset();
    c.strand.reset();
    c.ioc.reset();
    throw;
  }
  c.started = true;
  c.running = threads;
  c.threads.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) c.threads.emplace_back([&c] { run_worker(c); });
}

std::uint16_t Server::port() const { return impl_->port; }

std::size_t Server::connection_count() const {
  return impl_->connections.load(std::memory_order_relaxed);
}

void Server::stop(std::chrono::milliseconds grace) {
  Core& c = *impl_;
  std::lock_guard life(c.life_mu);
  if (!c.started || c.stopped) {
    c.stopped = true;
    return;
  }
  c.stopped = true;
  const auto deadline = Clock::now() + grace;
  c.stopping.store(true);
  asio::post(*c.strand, [&c] {
    beast::error_code ec;
    c.acceptor->close(ec);
    c.sweep_timer->cancel();
  });
  {
    // Connections waiting for a request close now; the others see `stopping` after their
    // current request and close then.
    std::unique_lock lk(c.mu);
    for (Connection* p = c.conns; p != nullptr; p = p->next) {
      if (p->idle.load()) p->shut();
    }
    c.cv.wait_until(lk, deadline, [&c] { return c.running == 0; });
  }
  c.ioc->stop();  // grace expired (or everything already finished)
  for (auto& t : c.threads) t.join();
  c.threads.clear();
  // Destroys what is left (connections still open after the grace period).
  c.sweep_timer.reset();
  c.acceptor.reset();
  c.strand.reset();
  c.ioc.reset();
}

}  // namespace mailtally::http
