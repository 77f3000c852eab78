// Fuzzes JSON decoding for the SES v2 REST-JSON operations and the CloudWatch JSON 1.0
// protocol. The first byte picks the operation; the rest is the body.
#include "fuzz/fuzz_common.hpp"
#include "wire/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailtally;
  if (size < 1) return 0;
  const bool cloudwatch = data[0] & 0x80;
  const wire::Service& svc = cloudwatch ? wire::cloudwatch_model() : wire::ses_v2_model();
  const auto& op = svc.operations[data[0] % svc.operations.size()];
  wire::Route route;
  route.service = &svc;
  route.operation = &op;
  route.operation_name = std::string(op.name);
  route.protocol = cloudwatch ? wire::Protocol::Json : wire::Protocol::RestJson;
  http::Request req;
  req.method = std::string(op.method);
  req.target = "/?PageSize=3&NextToken=x";
  req.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  auto in = wire::decode_input(route, req);
  if (in && op.output != wire::kNoShape) (void)wire::encode_result(route, *in, "id");
  return 0;
}
