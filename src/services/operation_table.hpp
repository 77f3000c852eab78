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

class OperationTable {
 public:
  // Registers a handler; the operation must exist in the service's model (else throws).
  void add(const wire::Service& service, std::string_view operation, OperationHandler handler);
  const OperationHandler* find(const wire::Service& service, std::string_view operation) const;
  bool implemented(const wire::Service& service, std::string_view operation) const {
    return find(service, operation) != nullptr;
  }

 private:
  std::map<std::pair<std::string, std::string>, OperationHandler, std::less<>> handlers_;
};

}  // namespace mailtally::services
