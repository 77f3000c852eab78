// SMTP server on Asio coroutines and asio::ssl.
//
// Design notes:
// - Each connection is one coroutine on its own strand; its timer (the one deadline of whatever
//   it waits for) runs on the same strand and cancels the socket's pending operation when it
//   fires. stop() reaches connections only by posting to their strand.
// - smtp::Session does all protocol work; this file only moves bytes, runs the TLS handshake,
//   and runs AUTH look-ups and submissions on the submit pool (co_spawn onto the pool, resume on
//   the strand), so SQLite never blocks the I/O threads.
// - Replies of pipelined commands are collected by the Session and written in one write before
//   the next read.
#include "smtp/server.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/host_name.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "auth/sigv4.hpp"
#include "base/thread_name.hpp"
#include "sending/sender.hpp"
#include "smtp/session.hpp"
#include "smtp/submission.hpp"
#include "smtp/tls_files.hpp"

namespace mailtally::smtp {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

struct Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
  tcp::socket socket;
  std::optional<ssl::stream<tcp::socket&>> tls;
  asio::steady_timer timer;
  bool timed_out = false;         // the timer cancelled the pending operation
  std::uint64_t deadline_id = 0;  // which arm() the timer's pending wait belongs to
  bool stop_requested = false;    // the server is stopping
  bool idle_read = false;         // waiting for a command (stop may interrupt it)
  std::list<std::shared_ptr<Connection>>::iterator self;
};

std::string peer_address(const tcp::socket& s, bool& loopback) {
  error_code ec;
  auto ep = s.remote_endpoint(ec);
  loopback = false;
  if (ec) return {};
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  loopback = a.is_loopback();
  return a.to_string();
}

}  // namespace

struct Server::Impl {
  Impl(Options o, std::string dir, const auth::CredentialSource& c, sending::Sender& s)
      : opt(std::move(o)), data_dir(std::move(dir)), credentials(c), sender(s) {}

  Options opt;
  std::string data_dir;
  const auth::CredentialSource& credentials;
  sending::Sender& sender;
  std::string hostname;
  std::string cert_file;
  std::optional<ssl::context> tls_context;  // outlives every stream (declared before ioc)
  asio::io_context ioc;
  std::optional<tcp::acceptor> plain_acceptor, tls_acceptor;
  std::uint16_t port = 0, tls_port = 0;
  std::optional<asio::thread_pool> pool;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  bool started = false, stopped = false;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::list<std::shared_ptr<Connection>> connections;  // under mu

  // ---- I/O with a deadline ---------------------------------------------------------------

  // A wait that expired just as its operation completed may still run after the next arm():
  // the id makes it a no-op then, so it never cancels the next operation.
  void arm(const std::shared_ptr<Connection>& c, Clock::time_point deadline) {
    c->timed_out = false;
    c->timer.expires_at(deadline);
    std::uint64_t id = ++c->deadline_id;
    c->timer.async_wait([c, id](error_code ec) {
      if (ec || id != c->deadline_id) return;
      c->timed_out = true;
      error_code ignored;
      c->socket.cancel(ignored);
    });
  }

  static void disarm(const std::shared_ptr<Connection>& c) {
    ++c->deadline_id;
    c->timer.cancel();
  }

  asio::awaitable<error_code> write(std::shared_ptr<Connection> c, const std::string& data) {
    arm(c, Clock::now() + opt.idle_timeout);
    error_code ec;
    if (c->tls) {
      std::tie(ec, std::ignore) = co_await asio::async_write(*c->tls, asio::buffer(data), kNoThrow);
    } else {
      std::tie(ec, std::ignore) =
          co_await asio::async_write(c->socket, asio::buffer(data), kNoThrow);
    }
    disarm(c);
    co_return ec;
  }

  asio::awaitable<std::pair<error_code, std::size_t>> read(std::shared_ptr<Connection> c,
                                                           asio::mutable_buffer buf,
                                                           Clock::time_point deadline) {
    arm(c, deadline);
    error_code ec;
    std::size_t n = 0;
    if (c->tls) {
      std::tie(ec, n) = co_await c->tls->async_read_some(buf, kNoThrow);
    } else {
      std::tie(ec, n) = co_await c->socket.async_read_some(buf, kNoThrow);
    }
    disarm(c);
    co_return std::pair{ec, n};
  }

  asio::awaitable<bool> handshake(std::shared_ptr<Connection> c) {
    c->tls.emplace(c->socket, *tls_context);
    arm(c, Clock::now() + opt.command_timeout);
    auto [ec] = co_await c->tls->async_handshake(ssl::stream_base::server, kNoThrow);
    disarm(c);
    co_return !ec;
  }

  asio::awaitable<void> close(std::shared_ptr<Connection> c) {
    if (c->tls) {
      arm(c, Clock::now() + std::chrono::seconds(1));
      co_await c->tls->async_shutdown(kNoThrow);
      disarm(c);
    }
    error_code ignored;
    c->socket.shutdown(tcp::socket::shutdown_both, ignored);
    c->socket.close(ignored);
  }

  // Runs `work` on the submit pool; resumes on the connection's strand.
  template <class F>
  asio::awaitable<std::invoke_result_t<F>> on_pool(F work) {
    using R = std::invoke_result_t<F>;
    co_return co_await asio::co_spawn(
        pool->get_executor(), [&work]() -> asio::awaitable<R> { co_return work(); },
        asio::use_awaitable);
  }

  // ---- one session -----------------------------------------------------------------------

  asio::awaitable<void> session(std::shared_ptr<Connection> c, bool implicit_tls,
                                bool over_capacity) {
    bool loopback = false;
    std::string peer = peer_address(c->socket, loopback);
    try {
      co_await run(c, implicit_tls, over_capacity, peer, loopback);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mailtally: smtp session %s: %s\n", peer.c_str(), e.what());
    }
    error_code ignored;
    disarm(c);
    c->socket.close(ignored);
    std::lock_guard lock(mu);
    connections.erase(c->self);
    cv.notify_all();
  }

  asio::awaitable<void> run(std::shared_ptr<Connection> c, bool implicit_tls, bool over_capacity,
                            const std::string& peer, bool loopback) {
    SessionSetup setup;
    setup.hostname = hostname;
    setup.max_recipients = opt.max_recipients;
    setup.max_message_bytes = opt.max_message_bytes;
    setup.max_command_line = opt.max_command_line;
    setup.max_auth_failures = opt.max_auth_failures;
    setup.max_errors = opt.max_errors;
    setup.tls_available = true;
    setup.auth_without_tls = opt.allow_plain_auth_on_loopback && loopback;
    if (implicit_tls) {
      if (!co_await handshake(c)) co_return;
      setup.tls_active = true;
      setup.tls_version = SSL_get_version(c->tls->native_handle());
    }
    if (over_capacity) {
      co_await write(c, "421 4.3.2 Too many connections, try again later\r\n");
      co_return co_await close(c);
    }
    Session s(setup);
    if (co_await write(c, s.greeting())) co_return;
    std::vector<char> buf(64 * 1024);
    Clock::time_point command_started{};
    std::size_t lines_seen = 0;
    for (;;) {
      Action a = s.next();
      if (!a.output.empty() && co_await write(c, a.output)) co_return;
      switch (a.kind) {
        case Action::Kind::Read: {
          if (c->stop_requested && !s.in_data()) {
            co_await write(c, "421 4.3.2 Service shutting down, closing connection\r\n");
            co_return co_await close(c);
          }
          auto now = Clock::now();
          auto deadline = now + opt.idle_timeout;
          if (s.partial_command()) {
            if (command_started == Clock::time_point{} || s.lines_taken() != lines_seen) {
              command_started = now;
            }
            deadline = std::min(deadline, command_started + opt.command_timeout);
          } else {
            command_started = {};
          }
          lines_seen = s.lines_taken();
          c->idle_read = !s.in_data();
          auto [ec, n] = co_await read(c, asio::buffer(buf), deadline);
          c->idle_read = false;
          if (ec) {
            if (c->timed_out) {
              co_await write(c, "421 4.4.2 " + hostname + " Timeout, closing connection\r\n");
              co_return co_await close(c);
            }
            if (c->stop_requested && ec == asio::error::operation_aborted) {
              co_await write(c, "421 4.3.2 Service shutting down, closing connection\r\n");
              co_return co_await close(c);
            }
            co_return;  // the client went away (mid-DATA: nothing was submitted)
          }
          s.receive(std::string_view(buf.data(), n));
          break;
        }
        case Action::Kind::StartTls: {
          if (!co_await handshake(c)) co_return;
          s.tls_started(SSL_get_version(c->tls->native_handle()));
          break;
        }
        case Action::Kind::Authenticate: {
          std::string identity;
          AuthResult r = co_await on_pool([&] {
            return check_credentials(credentials, opt.region, a.username, a.password, identity);
          });
          s.authenticated(r, identity);
          break;
        }
        case Action::Kind::Submit: {
          SubmitFacts facts{s.identity(), peer, s.tls_active() ? s.tls_version() : std::string(),
                            opt.max_message_bytes};
          std::string reply = co_await on_pool(
              [&] { return submit_message(sender, a.envelope, std::move(a.message), facts); });
          s.submitted(std::move(reply));
          break;
        }
        case Action::Kind::Close:
          co_return co_await close(c);
      }
    }
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, bool implicit_tls) {
    for (;;) {
      asio::any_io_executor strand = asio::make_strand(ioc);
      auto [ec, socket] = co_await acceptor.async_accept(strand, kNoThrow);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        // Out of descriptors or similar: pause instead of spinning.
        asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
        co_await pause.async_wait(kNoThrow);
        continue;
      }
      auto c = std::make_shared<Connection>(std::move(socket));
      bool over_capacity;
      {
        std::lock_guard lock(mu);
        over_capacity = connections.size() >= opt.max_sessions;
        connections.push_back(c);
        c->self = std::prev(connections.end());
      }
      asio::co_spawn(strand, session(c, implicit_tls, over_capacity), asio::detached);
    }
  }

  std::uint16_t listen(std::optional<tcp::acceptor>& acceptor, const std::string& host,
                       std::uint16_t p, bool implicit_tls) {
    error_code ec;
    auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) throw std::runtime_error("SMTP: bad listen address '" + host + "'");
    tcp::endpoint ep(address, p);
    acceptor.emplace(asio::make_strand(ioc));
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw std::runtime_error("SMTP: cannot listen on " + host + ":" + std::to_string(p) + ": " +
                               ec.message());
    }
    asio::co_spawn(acceptor->get_executor(), accept_loop(*acceptor, implicit_tls), asio::detached);
    return acceptor->local_endpoint().port();
  }

  void load_tls() {
    std::string cert = opt.tls_cert_file, key = opt.tls_key_file;
    if (cert.empty() != key.empty()) {
      throw std::runtime_error("SMTP: give both a TLS certificate and its key, or neither");
    }
    if (cert.empty()) {
      auto files = ensure_self_signed(data_dir, hostname);
      cert = files.cert_file;
      key = files.key_file;
      if (files.created) {
        std::fprintf(stderr, "mailtally: created a self-signed SMTP certificate %s\n",
                     cert.c_str());
      }
    }
    tls_context.emplace(ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(tls_context->native_handle(), TLS1_2_VERSION);
    tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::single_dh_use);
    error_code ec;
    tls_context->use_certificate_chain_file(cert, ec);
    if (ec) throw std::runtime_error("SMTP: cannot load certificate " + cert + ": " + ec.message());
    tls_context->use_private_key_file(key, ssl::context::pem, ec);
    if (ec) throw std::runtime_error("SMTP: cannot load key " + key + ": " + ec.message());
    cert_file = cert;
  }
};

Server::Server(Options options, std::string data_dir, const auth::CredentialSource& credentials,
               sending::Sender& sender)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(data_dir), credentials, sender)) {}

Server::~Server() { stop(std::chrono::milliseconds(2000)); }

void Server::start() {
  Impl& s = *impl_;
  if (s.started) throw std::runtime_error("SMTP server already started");
  s.started = true;
  s.hostname = s.opt.hostname.empty() ? asio::ip::host_name() : s.opt.hostname;
  s.load_tls();
  if (s.opt.enabled) s.port = s.listen(s.plain_acceptor, s.opt.host, s.opt.port, false);
  if (s.opt.tls_enabled) {
    s.tls_port = s.listen(s.tls_acceptor, s.opt.tls_host, s.opt.tls_port, true);
  }
  s.pool.emplace(std::max(1u, s.opt.submit_threads));
  unsigned n = std::max(1u, s.opt.io_threads);
  for (unsigned i = 0; i < n; ++i)
    s.threads.emplace_back([&s] {
      base::name_this_thread("smtp");
      s.ioc.run();
    });
}

std::uint16_t Server::port() const { return impl_->port; }
std::uint16_t Server::tls_port() const { return impl_->tls_port; }
const std::string& Server::certificate_file() const { return impl_->cert_file; }

std::size_t Server::session_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections.size();
}

void Server::stop(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  s.stopping = true;
  for (auto* acceptor : {&s.plain_acceptor, &s.tls_acceptor}) {
    if (!*acceptor) continue;
    auto& a = **acceptor;
    asio::post(a.get_executor(), [&a] {
      error_code ignored;
      a.close(ignored);
    });
  }
  {
    std::unique_lock lock(s.mu);
    for (auto& c : s.connections) {
      asio::post(c->socket.get_executor(), [c] {
        c->stop_requested = true;
        error_code ignored;
        if (c->idle_read) c->socket.cancel(ignored);
      });
    }
    if (!s.cv.wait_for(lock, grace, [&] { return s.connections.empty(); })) {
      for (auto& c : s.connections) {
        asio::post(c->socket.get_executor(), [c] {
          error_code ignored;
          c->socket.shutdown(tcp::socket::shutdown_both, ignored);
          c->socket.cancel(ignored);
        });
      }
      s.cv.wait_for(lock, std::chrono::seconds(2), [&] { return s.connections.empty(); });
    }
  }
  // Every session has closed (or is abandoned): stop the I/O threads. A submission still running
  // on the pool completes (its message is committed) before pool->join() returns.
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  if (s.pool) s.pool->join();
}

}  // namespace mailtally::smtp
