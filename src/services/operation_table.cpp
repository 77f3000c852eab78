#include "services/operation_table.hpp"

#include <stdexcept>

namespace mailtally::services {

void OperationTable::add(const wire::Service& service, std::string_view operation,
                         OperationHandler handler) {
  if (!service.find_operation(operation)) {
    throw std::logic_error("operation " + std::string(operation) + " is not in the " +
                           std::string(service.key) + " model");
  }
  handlers_[{std::string(service.key), std::string(operation)}] = std::move(handler);
}

const OperationHandler* OperationTable::find(const wire::Service& service,
                                             std::string_view operation) const {
  auto it = handlers_.find(std::pair<std::string, std::string>(service.key, operation));
  return it == handlers_.end() ? nullptr : &it->second;
}

}  // namespace mailtally::services
