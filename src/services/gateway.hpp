// The API front door: route -> authenticate -> decode -> dispatch -> encode, for every AWS API
// on the one HTTP port. Errors at any step are answered in the protocol that was called.
//
// Thread-safe: handle() may run on several worker threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>

#include "auth/sigv4.hpp"
#include "base/clock.hpp"
#include "http/message.hpp"
#include "services/operation_table.hpp"
#include "wire/codec.hpp"

namespace mailtally::services {

// Maps a request that fails the model to the error code the called API uses.
using ValidationMapper =
    std::function<wire::ApiError(const wire::Operation&, const wire::DecodeError&)>;

struct GatewayStats {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> auth_failures{0};
  std::atomic<std::uint64_t> errors{0};
};

// Sees every request the gateway answers (e.g. services/gateway_metrics.hpp). Called on the
// worker thread after the response is built; must be cheap and must not throw. `service` and
// `operation` are nullptr when the request could not be routed.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void observe(const wire::Service* service, const wire::Operation* operation, int status,
                       std::chrono::nanoseconds elapsed) noexcept = 0;
};

class Gateway {
 public:
  // All references must outlive the gateway.
  Gateway(const auth::CredentialSource& credentials, const base::Clock& clock,
          const OperationTable& operations);

  void set_validation_mapper(const wire::Service& service, ValidationMapper mapper);

  // True when the request is addressed to an AWS API (not to /health, the console, ...).
  static bool is_api_request(const http::Request& request);
  // The answer, or a deferred one (http::Deferred) for operations registered with add_async.
  http::Response handle(http::Request& request);

  // Calls an operation by name for a caller authenticated elsewhere (the web console's session):
  // no SigV4, but the same model validation, validation-error mapping and handler as a signed
  // request. `input` is the document form (members under their member names). Unknown
  // operations answer 404 UnknownOperation, unimplemented ones 501 NotImplemented.
  Output call(const wire::Service& service, std::string_view operation,
              const auth::Identity& caller, const http::Request& request,
              const boost::json::value& input);
  const GatewayStats& stats() const { return stats_; }
  // Set before the server starts; `observer` must outlive the gateway.
  void set_observer(RequestObserver* observer) { observer_ = observer; }

 private:
  http::Response handle_routed(http::Request& request, const wire::Service*& service,
                               const wire::Operation*& operation);
  wire::ApiError map_validation(const wire::Service& service, const wire::Operation& op,
                                const wire::DecodeError& e) const;
  http::Response handle_async(const AsyncOperationHandler& handler, const auth::Identity& caller,
                              http::Request& request, const std::string& request_id,
                              wire::Route route, const boost::json::object& input);

  const auth::CredentialSource& credentials_;
  const base::Clock& clock_;
  const OperationTable& operations_;
  std::vector<std::pair<const wire::Service*, ValidationMapper>> mappers_;
  GatewayStats stats_;
  RequestObserver* observer_ = nullptr;
};

// Decompresses a gzip body; nullopt when it is not valid gzip or inflates beyond `max_bytes`.
std::optional<std::string> gunzip(std::string_view data, std::size_t max_bytes);

}  // namespace mailtally::services
