// The JSON answers of the local endpoints (/_mailtally/..., /metrics), shared by local_api.cpp
// and local_metrics_api.cpp. Internal to services/. Thread-safe (pure).
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "http/message.hpp"

namespace mailtally::services {

// `body` serialized, Content-Type application/json.
http::Response json_reply(int status, const boost::json::value& body);
// {"message": message}
http::Response json_error(int status, std::string message);

}  // namespace mailtally::services
