// Fuzzes Query-protocol routing and decoding (SES v1, CloudWatch and SNS form bodies), and encodes
// whatever decodes back to XML, so both the decoder and the XML writer see arbitrary documents.
#include "fuzz/fuzz_common.hpp"
#include "wire/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailtally;
  http::Request req;
  req.method = "POST";
  req.target = "/";
  req.body.assign(reinterpret_cast<const char*>(data), size);
  static constexpr std::string_view kScopes[] = {"ses", "monitoring", "sns"};
  auto r = wire::route(req, kScopes[size % 3]);
  if (!r) {
    (void)wire::encode_error(r.error().service, r.error().protocol, r.error().error, "id");
    return 0;
  }
  auto in = wire::decode_input(*r, req);
  if (!in) return 0;
  // The input document re-encoded with the output encoder's machinery must not crash either.
  if (r->operation->output != wire::kNoShape) (void)wire::encode_result(*r, *in, "id");
  return 0;
}
