// Local debugging endpoints under /_mailtally/ (JSON, no request signing — bind the server to
// a trusted interface). Documented in docs/local-api.md:
//   GET /_mailtally/events?configuration_set=&type=&message_id=&after=&limit=
//   GET /_mailtally/mailbox?to=&limit=
//   GET /_mailtally/mailbox/<message id>      (the raw message, message/rfc822)
//
// Thread-safe: reads only, through the store.
#pragma once

#include <map>
#include <string>

#include "domain/sending_store.hpp"
#include "http/message.hpp"

namespace mailtally::services {

inline constexpr std::string_view kLocalApiPrefix = "/_mailtally/";

bool is_local_api_request(const http::Request& request);

// URL helpers shared by the local endpoints: %XX and '+' decoding; a query string as a map.
std::string percent_decode(std::string_view s);
std::map<std::string, std::string> query_params(std::string_view query);

// Answers a request whose path starts with kLocalApiPrefix (404 JSON for unknown paths, 405 for
// methods other than GET/HEAD, 400 for bad parameters). `store` must outlive the call.
http::Response handle_local_api(domain::SendingStore& store, const http::Request& request);

}  // namespace mailtally::services
