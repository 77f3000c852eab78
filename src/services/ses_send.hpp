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

// Readers of the send operations' request members (also used by ses_templates_send.cpp):
// a list of strings; Destination's To/Cc/Bcc into `r` (cleared first; null: none); Tags /
// EmailTags as message tags (validated later by the Sender).
std::vector<std::string> send_strings(const boost::json::object& o, std::string_view key);
void send_destination(const boost::json::object* d, sending::SendRequest& r);
std::vector<domain::MessageTag> send_tags(const boost::json::object& in, std::string_view key);

// Each API version's error for a failed send (also used by ses_templates_send.cpp).
wire::ApiError send_error_v1(const sending::SendError& e);
wire::ApiError send_error_v2(const sending::SendError& e);

}  // namespace mailtally::services
