#include "wire/api_error.hpp"

#include "wire/model.hpp"

namespace mailtally::wire {

ApiError model_error(const Service& service, std::string_view shape_or_code, std::string message) {
  const Shape* s = service.find_error(shape_or_code);
  if (!s) {
    return generic_error(500, "InternalFailure",
                         "internal error: unknown error shape " + std::string(shape_or_code),
                         false);
  }
  ApiError e;
  e.http_status = s->http_status;
  e.code = std::string(s->error_code);
  e.type_name = std::string(s->name);
  e.message = std::move(message);
  e.sender_fault = s->sender_fault;
  return e;
}

ApiError generic_error(int http_status, std::string code, std::string message, bool sender_fault) {
  ApiError e;
  e.http_status = http_status;
  e.type_name = code;
  e.code = std::move(code);
  e.message = std::move(message);
  e.sender_fault = sender_fault;
  return e;
}

}  // namespace mailtally::wire
