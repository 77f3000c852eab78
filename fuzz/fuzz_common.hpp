// Helpers shared by the wire fuzzers: build an http::Request from fuzz bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace mailtally::fuzz {

// Splits `data` at the first '\n': the head becomes the request target, the rest the body.
inline http::Request request_from(const std::uint8_t* data, std::size_t size, std::string method) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nl = in.find('\n');
  http::Request r;
  r.method = std::move(method);
  r.target = std::string(in.substr(0, nl));
  if (r.target.empty() || r.target[0] != '/') r.target.insert(r.target.begin(), '/');
  r.body = nl == std::string_view::npos ? std::string() : std::string(in.substr(nl + 1));
  return r;
}

}  // namespace mailtally::fuzz
