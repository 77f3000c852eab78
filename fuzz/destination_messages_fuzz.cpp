// Fuzzes what external destinations derive from outside data: the Firehose stream name of a
// DeliveryStreamARN (it becomes a file name: it must never leave its folder), EventBridge
// events built from a record and a bus ARN, and SNS envelopes around arbitrary messages.
#include <boost/json/parse.hpp>
#include <cstdlib>

#include "destinations/event_messages.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailtally::destinations;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto cut = in.find('\n');
  std::string_view arn = in.substr(0, cut);
  std::string_view rest = cut == std::string_view::npos ? std::string_view() : in.substr(cut + 1);

  if (auto name = firehose_stream_name(arn)) {
    if (name->empty() || name->find('/') != std::string::npos || *name == "." || *name == "..") {
      std::abort();
    }
  }
  for (std::string_view type : {"Send", "Click", "Nope"}) {
    if (auto body = eventbridge_event_json(rest, type, arn, "id", 1e9)) {
      boost::system::error_code ec;
      (void)boost::json::parse(*body, ec);
      if (ec) std::abort();  // what we build must be JSON
    }
  }
  SnsEnvelope e;
  e.type = size % 2 ? "Notification" : "SubscriptionConfirmation";
  e.message = std::string(rest);
  e.topic_arn = std::string(arn);
  boost::system::error_code ec;
  (void)boost::json::parse(sns_envelope_json(e, "1", "sig"), ec);
  if (ec) std::abort();
  (void)sns_string_to_sign(e);
  return 0;
}
