// Fuzzes what the web console reads from a browser before any handler runs: the Cookie header
// (console::cookie_value) and a call's JSON input document (wire::decode_document, for SES v2
// and CloudWatch operations). Input: byte 0 picks the operation, then "cookie header\nbody".
#include <boost/json/parse.hpp>

#include "console/sessions.hpp"
#include "wire/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailtally;
  if (size < 1) return 0;
  const wire::Service& svc = (data[0] & 0x80) ? wire::cloudwatch_model() : wire::ses_v2_model();
  const wire::Operation& op = svc.operations[data[0] % svc.operations.size()];
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  auto nl = in.find('\n');
  std::string_view cookie = in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  if (auto v = console::cookie_value(cookie, "mailtally_session")) {
    if (v->size() > cookie.size()) __builtin_trap();
  }
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(body, ec);
  if (ec) return 0;
  auto decoded = wire::decode_document(svc, op, doc);
  if (decoded && op.input != wire::kNoShape) {
    (void)wire::to_wire_json(svc, op.input, boost::json::value(*decoded), false);
  }
  return 0;
}
