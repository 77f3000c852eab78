// Load-test ceiling: the HTTP server answering every request with a fixed small XML body.
//
//   http_fixed_server [--host H] [--port N] [--threads N]
//
// Prints "port=NNNN" once listening, then serves until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "http/server.hpp"

namespace {

constexpr const char* kBody =
    "<SendEmailResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\">"
    "<SendEmailResult><MessageId>0100018c-0000-0000-0000-000000000000-000000</MessageId>"
    "</SendEmailResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000"
    "</RequestId></ResponseMetadata></SendEmailResponse>";

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--host H] [--port N] [--threads N]\n", argv0);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  mailtally::http::ServerOptions options;
  options.port = 8080;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(argv[0]);
    if (arg == "--port") {
      options.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else if (arg == "--threads") {
      options.threads = static_cast<unsigned>(std::atoi(argv[++i]));
    } else if (arg == "--host") {
      options.host = argv[++i];
    } else {
      usage(argv[0]);
    }
  }

  // Block the stop signals before the workers start so only sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string body = kBody;
  mailtally::http::Server server(options, [&body](mailtally::http::Request&) {
    mailtally::http::Response res;
    res.headers.add("Content-Type", "text/xml");
    res.body = body;
    return res;
  });
  try {
    server.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_fixed_server: %s\n", e.what());
    return 1;
  }
  std::printf("port=%u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  server.stop(std::chrono::milliseconds(2000));
  return 0;
}
