// An error as the caller will see it, independent of the protocol that carries it.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace mailtally::wire {

struct Service;

struct ApiError {
  int http_status = 400;
  std::string code;       // wire code: Query <Code>, x-amzn-query-error, v2 x-amzn-ErrorType
  std::string type_name;  // JSON __type / x-amzn-ErrorType: the model's shape name, else code
  std::string message;
  bool sender_fault = true;
  boost::json::object fields;  // extra members of the error shape (e.g. ConfigurationSetName)
};

// An error that the model defines, found by shape name (e.g. "NotFoundException",
// "ConfigurationSetDoesNotExistException") or wire code; status and fault come from the model.
// An unknown name is a programming error and yields a 500 InternalFailure.
ApiError model_error(const Service& service, std::string_view shape_or_code, std::string message);

// An error outside the model (authentication, routing, not implemented, internal).
ApiError generic_error(int http_status, std::string code, std::string message,
                       bool sender_fault = true);

}  // namespace mailtally::wire
