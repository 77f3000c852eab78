// The SES send operations: v1 SendEmail and SendRawEmail, v2 SendEmail (Content.Simple and
// Content.Raw). Wire documents become sending::SendRequest; sending::SendError becomes each API
// version's error (v1: MessageRejected, InvalidParameterValue, ConfigurationSetDoesNotExist,
// ...; v2: MessageRejected, BadRequestException, NotFoundException, SendingPausedException).
#pragma once

#include "sending/sender.hpp"
#include "services/operation_table.hpp"

namespace mailtally::services {

// `sender` must outlive the table. Handlers run on any HTTP worker thread.
void register_ses_send(OperationTable& table, sending::Sender& sender);

// Each API version's error for a failed send (also used by ses_templates_send.cpp).
wire::ApiError send_error_v1(const sending::SendError& e);
wire::ApiError send_error_v2(const sending::SendError& e);

}  // namespace mailtally::services
