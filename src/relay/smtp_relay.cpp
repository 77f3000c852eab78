#include "relay/smtp_relay.hpp"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>
#include <functional>
#include <stdexcept>

#include "base/crypto.hpp"
#include "relay/smtp_reply.hpp"

namespace mailtally::relay {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A failure of the conversation itself (not an SMTP answer): every recipient not yet settled
// is deferred with a 421 4.4.1-style diagnostic.
struct CommunicationFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An SMTP answer that ends the transaction for every recipient still open. `always_transient`:
// a problem of this relay's configuration (refused credentials), never the recipients' fault,
// so it is retried even when the reply is 5xx.
struct TransactionFailure {
  SmtpReply reply;
  bool always_transient = false;
};

class Session {
 public:
  explicit Session(std::chrono::milliseconds timeout)
      : timeout_(timeout), tls_ctx_(asio::ssl::context::tls_client) {
    tls_ctx_.set_verify_mode(asio::ssl::verify_none);
  }

  void connect(const std::string& host, std::uint16_t port) {
    tcp::resolver resolver(io_);
    tcp::resolver::results_type endpoints;
    run(
        "resolving " + host,
        [&](auto done) {
          resolver.async_resolve(host, std::to_string(port),
                                 [&, done](boost::system::error_code ec, auto results) {
                                   endpoints = std::move(results);
                                   done(ec);
                                 });
        },
        [&] { resolver.cancel(); });
    run("connecting to " + host + ":" + std::to_string(port), [&](auto done) {
      asio::async_connect(socket_, endpoints,
                          [done](boost::system::error_code ec, const tcp::endpoint&) { done(ec); });
    });
    boost::system::error_code ec;
    auto local = socket_.local_endpoint(ec);
    if (!ec) local_ip_ = local.address().to_string();
  }

  void start_tls(const std::string& host) {
    tls_.emplace(socket_, tls_ctx_);
    SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
    run("the TLS handshake", [&](auto done) {
      tls_->async_handshake(asio::ssl::stream_base::client,
                            [done](boost::system::error_code ec) { done(ec); });
    });
    tls_version_ = SSL_get_version(tls_->native_handle());
  }

  void write(const std::string& bytes) {
    run("writing", [&](auto done) {
      auto handler = [done](boost::system::error_code ec, std::size_t) { done(ec); };
      if (tls_) {
        asio::async_write(*tls_, asio::buffer(bytes), handler);
      } else {
        asio::async_write(socket_, asio::buffer(bytes), handler);
      }
    });
  }

  SmtpReply read_reply() {
    while (true) {
      SmtpReply reply;
      std::size_t consumed = 0;
      switch (parse_reply(in_, reply, consumed)) {
        case ReplyParse::Complete:
          in_.erase(0, consumed);
          return reply;
        case ReplyParse::Malformed:
          throw CommunicationFailure("the server sent a malformed SMTP reply");
        case ReplyParse::Incomplete:
          break;
      }
      char buf[4096];
      std::size_t got = 0;
      run("reading a reply", [&](auto done) {
        auto handler = [&, done](boost::system::error_code ec, std::size_t n) {
          got = n;
          done(ec);
        };
        if (tls_) {
          tls_->async_read_some(asio::buffer(buf), handler);
        } else {
          socket_.async_read_some(asio::buffer(buf), handler);
        }
      });
      in_.append(buf, got);
    }
  }

  SmtpReply command(const std::string& line) {
    write(line + "\r\n");
    return read_reply();
  }

  const std::string& local_ip() const { return local_ip_; }
  const std::string& tls_version() const { return tls_version_; }

 private:
  // Starts one asynchronous step through `start(done)` and runs the io_context until it
  // completes or the timeout passes (then `cancel` runs, the socket is closed, and the step
  // fails once its cancelled handler has run).
  template <class Start>
  void run(const std::string& what, Start start, const std::function<void()>& cancel = {}) {
    bool finished = false;
    boost::system::error_code result;
    start([&](boost::system::error_code ec) {
      finished = true;
      result = ec;
    });
    io_.restart();
    io_.run_for(timeout_);
    if (!finished) {
      if (cancel) cancel();
      boost::system::error_code ignored;
      socket_.close(ignored);
      io_.restart();
      io_.run();  // let the cancelled handler run
      throw CommunicationFailure("timed out " + what);
    }
    if (result) {
      if (result == asio::error::eof || result == asio::ssl::error::stream_truncated) {
        throw CommunicationFailure("the server closed the connection while " + what);
      }
      throw CommunicationFailure(what + " failed: " + result.message());
    }
  }

  std::chrono::milliseconds timeout_;
  asio::io_context io_;
  tcp::socket socket_{io_};
  asio::ssl::context tls_ctx_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_;
  std::string in_;
  std::string local_ip_, tls_version_;
};

bool has_extension(const SmtpReply& ehlo, std::string_view name, std::string* args = nullptr) {
  for (std::size_t i = 1; i < ehlo.lines.size(); ++i) {
    std::string_view l = ehlo.lines[i];
    std::string_view word = l.substr(0, l.find(' '));
    if (word.size() != name.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < word.size(); ++k) {
      char c = word[k];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (c != name[k]) same = false;
    }
    if (!same) continue;
    if (args) *args = word.size() < l.size() ? std::string(l.substr(word.size() + 1)) : "";
    return true;
  }
  return false;
}

bool lists_mechanism(const std::string& mechanisms, std::string_view m) {
  std::size_t pos = 0;
  while (pos <= mechanisms.size()) {
    std::size_t end = mechanisms.find(' ', pos);
    if (end == std::string::npos) end = mechanisms.size();
    std::string_view word(mechanisms.data() + pos, end - pos);
    if (word.size() == m.size()) {
      bool same = true;
      for (std::size_t k = 0; k < m.size(); ++k) {
        char c = word[k];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c != m[k]) same = false;
      }
      if (same) return true;
    }
    pos = end + 1;
  }
  return false;
}

RecipientResult from_reply(const SmtpReply& r) {
  RecipientResult out;
  out.code = r.code;
  out.response = r.text();
  out.outcome = r.klass() == 2   ? Outcome::Delivered
                : r.klass() == 5 ? Outcome::Permanent
                                 : Outcome::Transient;
  out.status = r.enhanced;
  if (out.status.empty()) out.status = std::to_string(r.klass() == 3 ? 4 : r.klass()) + ".0.0";
  return out;
}

// Expects a reply of class `klass`; otherwise the transaction ends with that reply (a
// 3xx / 2xx where another class was expected counts as a temporary failure).
SmtpReply expect(const SmtpReply& r, int klass) {
  if (r.klass() != klass) {
    SmtpReply bad = r;
    if (bad.klass() != 4 && bad.klass() != 5) bad.code = 451;
    throw TransactionFailure{bad};
  }
  return r;
}

}  // namespace

std::optional<RelayConfig> parse_relay_url(std::string_view url, std::string& error) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    error = "not a URL: " + parsed.error().message();
    return std::nullopt;
  }
  const auto& u = *parsed;
  if (u.scheme() != "smtp") {
    error = "the scheme must be smtp://";
    return std::nullopt;
  }
  RelayConfig c;
  c.host = u.encoded_host().decode();
  if (c.host.size() >= 2 && c.host.front() == '[' && c.host.back() == ']') {
    c.host = c.host.substr(1, c.host.size() - 2);
  }
  if (c.host.empty()) {
    error = "a host is required";
    return std::nullopt;
  }
  if (u.has_port()) {
    if (u.port_number() == 0) {
      error = "bad port";
      return std::nullopt;
    }
    c.port = u.port_number();
  }
  if (u.has_userinfo()) {
    c.user = u.user();
    c.password = u.password();
  }
  for (auto p : u.params()) {
    if (p.key == "starttls") {
      if (p.value == "required") {
        c.require_starttls = true;
      } else if (p.value != "opportunistic") {
        error = "starttls must be 'required' or 'opportunistic'";
        return std::nullopt;
      }
    } else {
      error = "unknown parameter '" + p.key + "'";
      return std::nullopt;
    }
  }
  if (!u.encoded_path().empty() && u.encoded_path() != "/") {
    error = "a path is not allowed";
    return std::nullopt;
  }
  return c;
}

std::string dot_stuff(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 32 + 8);
  bool line_start = true;
  for (std::size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') continue;  // CRLF below
    if (c == '\n' || c == '\r') {
      out += "\r\n";
      line_start = true;
      continue;
    }
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = false;
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

SmtpRelay::SmtpRelay(RelayConfig config, SmtpRelayOptions options)
    : config_(std::move(config)), options_(std::move(options)) {
  if (options_.helo_name.empty()) options_.helo_name = "localhost";
}

SendResult SmtpRelay::send(const Envelope& env) {
  SendResult result;
  result.recipients.resize(env.recipients.size());
  // Recipients still open (not settled by their RCPT reply).
  std::vector<std::size_t> open;
  for (std::size_t i = 0; i < env.recipients.size(); ++i) open.push_back(i);
  auto settle_open = [&](const RecipientResult& r) {
    for (std::size_t i : open) result.recipients[i] = r;
    open.clear();
  };
  Session s(options_.timeout);
  try {
    s.connect(config_.host, config_.port);
    result.local_ip = s.local_ip();
    expect(s.read_reply(), 2);
    SmtpReply ehlo = s.command("EHLO " + options_.helo_name);
    bool esmtp = ehlo.klass() == 2;
    if (!esmtp) ehlo = expect(s.command("HELO " + options_.helo_name), 2);
    if (esmtp && has_extension(ehlo, "STARTTLS")) {
      expect(s.command("STARTTLS"), 2);
      s.start_tls(config_.host);
      result.tls_version = s.tls_version();
      ehlo = expect(s.command("EHLO " + options_.helo_name), 2);
    } else if (config_.require_starttls || env.require_tls) {
      throw CommunicationFailure(config_.require_starttls
                                     ? "the server does not offer STARTTLS (starttls=required)"
                                     : "the server does not offer STARTTLS and the configuration "
                                       "set's TlsPolicy is REQUIRE");
    }
    if (!config_.user.empty()) {
      std::string mechanisms;
      if (!has_extension(ehlo, "AUTH", &mechanisms)) {
        throw CommunicationFailure("credentials are configured but the server offers no AUTH");
      }
      auto auth_step = [&](const std::string& line, int klass) {
        SmtpReply r = s.command(line);
        if (r.klass() != klass) throw TransactionFailure{r, true};
      };
      if (lists_mechanism(mechanisms, "PLAIN")) {
        std::string token = std::string(1, '\0') + config_.user + '\0' + config_.password;
        auth_step("AUTH PLAIN " + base::base64_encode(token), 2);
      } else if (lists_mechanism(mechanisms, "LOGIN")) {
        auth_step("AUTH LOGIN", 3);
        auth_step(base::base64_encode(config_.user), 3);
        auth_step(base::base64_encode(config_.password), 2);
      } else {
        throw CommunicationFailure("the server offers neither AUTH PLAIN nor AUTH LOGIN");
      }
    }
    expect(s.command("MAIL FROM:<" + env.mail_from + ">"), 2);
    std::vector<std::size_t> accepted;
    for (std::size_t i : open) {
      SmtpReply r = s.command("RCPT TO:<" + env.recipients[i] + ">");
      if (r.klass() == 2) {
        accepted.push_back(i);
      } else {
        result.recipients[i] = from_reply(r.klass() == 3 ? SmtpReply{451, "", r.lines} : r);
      }
    }
    open = accepted;
    if (!open.empty()) {
      expect(s.command("DATA"), 3);
      s.write(dot_stuff(env.data));
      settle_open(from_reply(expect(s.read_reply(), 2)));
    }
    try {
      s.command("QUIT");
    } catch (const CommunicationFailure&) {
      // The message is delivered; a server that hangs up on QUIT changes nothing.
    }
  } catch (const TransactionFailure& f) {
    RecipientResult r = from_reply(f.reply);
    if (f.always_transient) r.outcome = Outcome::Transient;
    settle_open(r);
  } catch (const CommunicationFailure& f) {
    RecipientResult r;
    r.outcome = Outcome::Transient;
    r.code = 421;
    r.status = "4.4.1";
    r.response = std::string("421 4.4.1 ") + f.what();
    r.communication = true;
    settle_open(r);
  }
  return result;
}

}  // namespace mailtally::relay
