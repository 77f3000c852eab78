#include "services/operation_table.hpp"

#include <future>
#include <memory>
#include <stdexcept>

namespace mailtally::services {
namespace {

void check_in_model(const wire::Service& service, std::string_view operation) {
  if (!service.find_operation(operation)) {
    throw std::logic_error("operation " + std::string(operation) + " is not in the " +
                           std::string(service.key) + " model");
  }
}

}  // namespace

void OperationTable::add(const wire::Service& service, std::string_view operation,
                         OperationHandler handler) {
  check_in_model(service, operation);
  handlers_[{std::string(service.key), std::string(operation)}] = Entry{std::move(handler), {}};
}

void OperationTable::add_async(const wire::Service& service, std::string_view operation,
                               AsyncOperationHandler handler) {
  check_in_model(service, operation);
  OperationHandler blocking = [handler](const CallContext& ctx,
                                        const boost::json::object& in) -> Output {
    auto result = std::make_shared<std::promise<Output>>();
    auto ready = result->get_future();
    handler(ctx, in, [result](Output out) { result->set_value(std::move(out)); });
    return ready.get();
  };
  handlers_[{std::string(service.key), std::string(operation)}] =
      Entry{std::move(blocking), std::move(handler)};
}

const OperationHandler* OperationTable::find(const wire::Service& service,
                                             std::string_view operation) const {
  auto it = handlers_.find(std::pair<std::string, std::string>(service.key, operation));
  return it == handlers_.end() ? nullptr : &it->second.handler;
}

const AsyncOperationHandler* OperationTable::find_async(const wire::Service& service,
                                                        std::string_view operation) const {
  auto it = handlers_.find(std::pair<std::string, std::string>(service.key, operation));
  return it == handlers_.end() || !it->second.async ? nullptr : &it->second.async;
}

}  // namespace mailtally::services
