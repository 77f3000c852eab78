// The dispatch table: (service, operation name) -> handler. Built once at start-up, then only
// read, so lookups are thread-safe. Operations without an entry answer NotImplemented.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "auth/sigv4.hpp"
#include "base/expected.hpp"
#include "http/message.hpp"
#include "wire/api_error.hpp"
#include "wire/model.hpp"

namespace mailtally::services {

// What a handler knows of its call. References are valid for the duration of the call only.
struct CallContext {
  const auth::Identity& caller;
  const http::Request& http;
  std::string_view request_id;
  const wire::Service& service;
};

using Output = base::Expected<boost::json::object, wire::ApiError>;
using OperationHandler = std::function<Output(const CallContext&, const boost::json::object&)>;

// A handler that answers later: it copies what it needs from the context during the call and
// calls `reply` exactly once, from any thread (for example once its change is committed by a
// store's commit thread). The gateway then encodes the output on the connection's thread.
using Reply = std::function<void(Output)>;
using AsyncOperationHandler =
    std::function<void(const CallContext&, const boost::json::object&, Reply reply)>;

class OperationTable {
 public:
  // Registers a handler; the operation must exist in the service's model (else throws).
  void add(const wire::Service& service, std::string_view operation, OperationHandler handler);
  // Registers an async handler; find() then returns a blocking adapter of it, so every caller
  // can still use the operation synchronously.
  void add_async(const wire::Service& service, std::string_view operation,
                 AsyncOperationHandler handler);
  const OperationHandler* find(const wire::Service& service, std::string_view operation) const;
  // The async handler, when the operation was registered with add_async().
  const AsyncOperationHandler* find_async(const wire::Service& service,
                                          std::string_view operation) const;
  bool implemented(const wire::Service& service, std::string_view operation) const {
    return find(service, operation) != nullptr;
  }

 private:
  struct Entry {
    OperationHandler handler;
    AsyncOperationHandler async;  // empty for synchronous operations
  };
  std::map<std::pair<std::string, std::string>, Entry, std::less<>> handlers_;
};

}  // namespace mailtally::services
