// Fuzzes REST routing: arbitrary methods and paths under /v2/, percent-escapes and labels.
#include "fuzz/fuzz_common.hpp"
#include "wire/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailtally;
  static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
  if (size < 1) return 0;
  auto req = fuzz::request_from(data + 1, size - 1, kMethods[data[0] % 5]);
  req.target.insert(0, "/v2/email");
  auto r = wire::route(req, "ses");
  if (r) (void)wire::decode_input(*r, req);
  return 0;
}
