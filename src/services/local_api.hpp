// Local debugging endpoints under /_mailtally/ (JSON, no request signing — bind the server to
// a trusted interface). Documented in docs/local-api.md:
//   GET /_mailtally/events?configuration_set=&type=&message_id=&after=&limit=
//   GET /_mailtally/mailbox?to=&limit=
//   GET /_mailtally/mailbox/<message id>      (the raw message, message/rfc822)
//
// Thread-safe: reads only, through the store.
#pragma once

#include "domain/sending_store.hpp"
#include "http/message.hpp"

namespace mailtally::services {

inline constexpr std::string_view kLocalApiPrefix = "/_mailtally/";

bool is_local_api_request(const http::Request& request);

// Answers a request whose path starts with kLocalApiPrefix (404 JSON for unknown paths, 405 for
// methods other than GET/HEAD, 400 for bad parameters). `store` must outlive the call.
http::Response handle_local_api(domain::SendingStore& store, const http::Request& request);

}  // namespace mailtally::services
