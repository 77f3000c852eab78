// Domain errors and model-validation failures as each API version names them. The only place
// where ErrorKind/Subject become AWS error codes.
#pragma once

#include "domain/error.hpp"
#include "wire/api_error.hpp"
#include "wire/codec.hpp"

namespace mailtally::services {

wire::ApiError ses_v1_error(const domain::Error& e);
wire::ApiError ses_v2_error(const domain::Error& e);

wire::ApiError ses_v1_validation(const wire::Operation& op, const wire::DecodeError& e);
wire::ApiError ses_v2_validation(const wire::Operation& op, const wire::DecodeError& e);
wire::ApiError cloudwatch_validation(const wire::Operation& op, const wire::DecodeError& e);

}  // namespace mailtally::services
