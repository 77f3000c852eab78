// SES v2 (REST-JSON): the account suppression list (Put/Get/List/DeleteSuppressedDestination),
// PutAccountSuppressionAttributes, and GetAccount's SuppressionAttributes. Delivery consults the
// same store (sending/delivery.cpp); bounces and complaints add to it there.
#include <algorithm>

#include "base/crypto.hpp"
#include "base/time_format.hpp"
#include "domain/rules.hpp"
#include "services/doc.hpp"
#include "services/providers.hpp"

namespace mailtally::services {
namespace json = boost::json;
namespace {

constexpr std::string_view kTokenPrefix = "mailtally-suppression:";
constexpr std::int64_t kMaxPageSize = 1000;

base::Unexpected<wire::ApiError> fail(std::string_view code, std::string message) {
  return base::unexpected(wire::model_error(wire::ses_v2_model(), code, std::move(message)));
}

double now_seconds(const base::Clock& clock) {
  return std::chrono::duration<double>(clock.now().time_since_epoch()).count();
}

json::array reasons_json(const std::vector<std::string>& reasons) {
  json::array a;
  for (const auto& r : reasons) a.emplace_back(r);
  return a;
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace

void register_ses_suppression(OperationTable& t, domain::SuppressionStore& store,
                              const base::Clock& clock) {
  const wire::Service& m = wire::ses_v2_model();

  t.add(m, "PutSuppressedDestination",
        [&store, &clock](const CallContext&, const json::object& in) -> Output {
          std::string address = doc::str(in, "EmailAddress");
          if (!domain::is_valid_email_address(address)) {
            return fail("BadRequestException", "Invalid email address: " + address + ".");
          }
          store.put_suppressed({address, doc::str(in, "Reason"), now_seconds(clock), "", ""});
          return json::object();
        });

  t.add(m, "GetSuppressedDestination",
        [&store](const CallContext&, const json::object& in) -> Output {
          std::string address = doc::str(in, "EmailAddress");
          auto d = store.get_suppressed(address);
          if (!d) {
            return fail("NotFoundException",
                        "Email address " + address + " does not exist on your suppression list.");
          }
          json::object attributes;
          if (!d->message_id.empty()) attributes["MessageId"] = d->message_id;
          if (!d->feedback_id.empty()) attributes["FeedbackId"] = d->feedback_id;
          json::object out{{"EmailAddress", d->email_address},
                           {"Reason", d->reason},
                           {"LastUpdateTime", d->last_update}};
          if (!attributes.empty()) out["Attributes"] = std::move(attributes);
          return json::object{{"SuppressedDestination", std::move(out)}};
        });

  t.add(m, "DeleteSuppressedDestination",
        [&store](const CallContext&, const json::object& in) -> Output {
          std::string address = doc::str(in, "EmailAddress");
          if (!store.delete_suppressed(address)) {
            return fail("NotFoundException",
                        "Email address " + address + " does not exist on your suppression list.");
          }
          return json::object();
        });

  t.add(m, "ListSuppressedDestinations",
        [&store](const CallContext&, const json::object& in) -> Output {
          domain::SuppressionFilter f;
          if (const auto* reasons = doc::arr(in, "Reasons")) {
            for (const auto& r : *reasons) {
              if (r.is_string()) f.reasons.emplace_back(r.get_string());
            }
          }
          f.start = doc::opt_number(in, "StartDate");
          f.end = doc::opt_number(in, "EndDate");
          if (f.start && f.end && *f.start > *f.end) {
            return fail("BadRequestException", "StartDate must not be after EndDate.");
          }
          std::int64_t size = doc::opt_int(in, "PageSize").value_or(kMaxPageSize);
          if (size < 1 || size > kMaxPageSize) {
            return fail("BadRequestException",
                        "PageSize must be between 1 and " + std::to_string(kMaxPageSize) + ".");
          }
          if (auto token = doc::opt_str(in, "NextToken")) {
            auto raw = base::base64_decode(*token);
            if (!raw || raw->rfind(kTokenPrefix, 0) != 0 || raw->size() == kTokenPrefix.size()) {
              return fail("InvalidNextTokenException", "The NextToken is not valid.");
            }
            f.after = raw->substr(kTokenPrefix.size());
          }
          f.limit = static_cast<std::size_t>(size) + 1;  // one more: is there a next page?
          auto rows = store.list_suppressed(f);
          bool more = rows.size() > static_cast<std::size_t>(size);
          if (more) rows.resize(static_cast<std::size_t>(size));
          json::array summaries;
          for (const auto& d : rows) {
            summaries.push_back(json::object{{"EmailAddress", d.email_address},
                                             {"Reason", d.reason},
                                             {"LastUpdateTime", d.last_update}});
          }
          json::object out{{"SuppressedDestinationSummaries", std::move(summaries)}};
          if (more) {
            out["NextToken"] =
                base::base64_encode(std::string(kTokenPrefix) + lower(rows.back().email_address));
          }
          return out;
        });

  t.add(m, "PutAccountSuppressionAttributes",
        [&store](const CallContext&, const json::object& in) -> Output {
          std::vector<std::string> reasons;
          if (const auto* list = doc::arr(in, "SuppressedReasons")) {
            for (const auto& r : *list) {
              if (!r.is_string()) continue;
              std::string reason(r.get_string());
              if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) {
                reasons.push_back(std::move(reason));
              }
            }
          }
          store.set_account_suppressed_reasons(reasons);
          return json::object();
        });

  // GetAccount is answered by ses_v2.cpp; report the stored SuppressionAttributes in it.
  if (const OperationHandler* base_handler = t.find(m, "GetAccount")) {
    OperationHandler inner = *base_handler;
    t.add(m, "GetAccount",
          [inner, &store](const CallContext& call, const json::object& in) -> Output {
            auto out = inner(call, in);
            if (!out) return out;
            (*out)["SuppressionAttributes"] = json::object{
                {"SuppressedReasons", reasons_json(store.account_suppressed_reasons())}};
            return out;
          });
  }
}

}  // namespace mailtally::services
