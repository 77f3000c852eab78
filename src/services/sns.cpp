#include "services/sns.hpp"

#include <chrono>

#include "base/crypto.hpp"
#include "base/ids.hpp"
#include "services/doc.hpp"
#include "wire/form.hpp"
#include "wire/xml_writer.hpp"

namespace mailtally::services {
namespace json = boost::json;
namespace {

constexpr std::string_view kAccountId = "123456789012";  // as sending/event_record.hpp
constexpr std::size_t kPageSize = 100;                   // SNS lists 100 per page

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

base::Unexpected<wire::ApiError> fail(std::string_view code, std::string message) {
  return base::unexpected(wire::model_error(wire::sns_model(), code, std::move(message)));
}

std::string region_of(const CallContext& ctx) {
  return ctx.caller.region.empty() ? std::string("us-east-1") : ctx.caller.region;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  wire::XmlWriter::escape_into(out, s);
  return out;
}

// Pages of `items` after the opaque NextToken (an index, as text).
template <class T>
base::Expected<std::pair<std::size_t, std::size_t>, wire::ApiError> page(
    const std::vector<T>& items, const json::object& in) {
  std::size_t start = 0;
  if (auto token = doc::opt_str(in, "NextToken"); token && !token->empty()) {
    if (token->find_first_not_of("0123456789") != std::string::npos || token->size() > 9) {
      return fail("InvalidParameterException", "Invalid parameter: NextToken");
    }
    start = std::stoul(*token);
    if (start > items.size())
      return fail("InvalidParameterException", "Invalid parameter: NextToken");
  }
  return std::pair{start, std::min(items.size(), start + kPageSize)};
}

json::object subscription_doc(const domain::SnsSubscription& s) {
  return json::object{{"SubscriptionArn", s.confirmed ? s.arn : "PendingConfirmation"},
                      {"Owner", kAccountId},
                      {"Protocol", s.protocol},
                      {"Endpoint", s.endpoint},
                      {"TopicArn", s.topic_arn}};
}

Output list_subscriptions(const std::vector<domain::SnsSubscription>& subs,
                          const json::object& in) {
  auto range = page(subs, in);
  if (!range) return base::unexpected(range.error());
  json::array out;
  for (std::size_t i = range->first; i < range->second; ++i)
    out.push_back(subscription_doc(subs[i]));
  json::object result{{"Subscriptions", std::move(out)}};
  if (range->second < subs.size()) result["NextToken"] = std::to_string(range->second);
  return result;
}

bool is_sns_topic_arn(std::string_view arn) {
  // arn:aws:sns:REGION:ACCOUNT:NAME
  if (arn.substr(0, 12) != "arn:aws:sns:") return false;
  auto name = arn.rfind(':');
  return name != std::string_view::npos && name > 12 &&
         domain::is_valid_sns_topic_name(arn.substr(name + 1));
}

}  // namespace

void register_sns(OperationTable& t, domain::SnsStore& store, SnsSubscribedHook on_subscribed) {
  const wire::Service& m = wire::sns_model();

  t.add(m, "CreateTopic", [&store](const CallContext& ctx, const json::object& in) -> Output {
    std::string name = doc::str(in, "Name");
    if (!domain::is_valid_sns_topic_name(name)) {
      return fail("InvalidParameterException", "Invalid parameter: Topic Name");
    }
    domain::SnsTopic topic;
    topic.name = name;
    topic.arn = "arn:aws:sns:" + region_of(ctx) + ":" + std::string(kAccountId) + ":" + name;
    if (const auto* attrs = doc::obj(in, "Attributes")) {
      topic.display_name = doc::str(*attrs, "DisplayName");
    }
    topic.created_at = now_seconds();
    auto stored = store.create_topic(topic);
    return json::object{{"TopicArn", stored.arn}};
  });

  t.add(m, "DeleteTopic", [&store](const CallContext&, const json::object& in) -> Output {
    // As SNS: deleting a topic that does not exist is not an error.
    store.delete_topic(doc::str(in, "TopicArn"));
    return json::object();
  });

  t.add(m, "ListTopics", [&store](const CallContext&, const json::object& in) -> Output {
    auto topics = store.list_topics();
    auto range = page(topics, in);
    if (!range) return base::unexpected(range.error());
    json::array out;
    for (std::size_t i = range->first; i < range->second; ++i) {
      out.push_back(json::object{{"TopicArn", topics[i].arn}});
    }
    json::object result{{"Topics", std::move(out)}};
    if (range->second < topics.size()) result["NextToken"] = std::to_string(range->second);
    return result;
  });

  t.add(m, "GetTopicAttributes", [&store](const CallContext&, const json::object& in) -> Output {
    auto topic = store.get_topic(doc::str(in, "TopicArn"));
    if (!topic) return fail("NotFoundException", "Topic does not exist");
    std::size_t confirmed = 0, pending = 0;
    for (const auto& s : store.subscriptions(topic->arn)) (s.confirmed ? confirmed : pending)++;
    return json::object{
        {"Attributes", json::object{{"TopicArn", topic->arn},
                                    {"Owner", kAccountId},
                                    {"DisplayName", topic->display_name},
                                    {"SubscriptionsConfirmed", std::to_string(confirmed)},
                                    {"SubscriptionsPending", std::to_string(pending)},
                                    {"SubscriptionsDeleted", "0"}}}};
  });

  t.add(m, "Subscribe",
        [&store, on_subscribed](const CallContext&, const json::object& in) -> Output {
          std::string topic_arn = doc::str(in, "TopicArn");
          std::string protocol = doc::str(in, "Protocol");
          std::string endpoint = doc::str(in, "Endpoint");
          if (!is_sns_topic_arn(topic_arn)) {
            return fail("InvalidParameterException", "Invalid parameter: TopicArn");
          }
          if (protocol != "http" && protocol != "https") {
            return fail("InvalidParameterException",
                        "Invalid parameter: Protocol: mailtally delivers SNS notifications only "
                        "to http and https subscriptions, not '" +
                            protocol + "'");
          }
          if (endpoint.substr(0, protocol.size() + 3) != protocol + "://" ||
              endpoint.size() <= protocol.size() + 3) {
            return fail("InvalidParameterException",
                        "Invalid parameter: Endpoint must match the specified protocol");
          }
          if (!store.get_topic(topic_arn)) return fail("NotFoundException", "Topic does not exist");
          domain::SnsSubscription sub;
          sub.topic_arn = topic_arn;
          sub.arn = topic_arn + ":" + base::uuid4();
          sub.protocol = protocol;
          sub.endpoint = endpoint;
          sub.token =
              base::hex(reinterpret_cast<const std::uint8_t*>(base::random_bytes(32).data()), 32);
          sub.confirmed = true;  // confirmed at once (docs/behaviour.md)
          sub.created_at = now_seconds();
          auto stored = store.subscribe(sub);
          if (stored.arn == sub.arn && on_subscribed) on_subscribed(stored);
          return json::object{{"SubscriptionArn", stored.arn}};
        });

  t.add(m, "Unsubscribe", [&store](const CallContext&, const json::object& in) -> Output {
    if (!store.unsubscribe(doc::str(in, "SubscriptionArn"))) {
      return fail("NotFoundException", "Subscription does not exist");
    }
    return json::object();
  });

  t.add(m, "ListSubscriptions", [&store](const CallContext&, const json::object& in) -> Output {
    return list_subscriptions(store.subscriptions(""), in);
  });

  t.add(m, "ListSubscriptionsByTopic",
        [&store](const CallContext&, const json::object& in) -> Output {
          std::string topic_arn = doc::str(in, "TopicArn");
          if (!store.get_topic(topic_arn)) return fail("NotFoundException", "Topic does not exist");
          return list_subscriptions(store.subscriptions(topic_arn), in);
        });

  t.add(m, "ConfirmSubscription", [&store](const CallContext&, const json::object& in) -> Output {
    std::string topic_arn = doc::str(in, "TopicArn");
    if (!store.get_topic(topic_arn)) return fail("NotFoundException", "Topic does not exist");
    auto sub = store.confirm(topic_arn, doc::str(in, "Token"));
    if (!sub) return fail("InvalidParameterException", "Invalid token");
    return json::object{{"SubscriptionArn", sub->arn}};
  });
}

void install_sns_validation_mapper(Gateway& gateway) {
  gateway.set_validation_mapper(
      wire::sns_model(), [](const wire::Operation&, const wire::DecodeError& e) {
        // SNS reports every malformed or missing parameter as InvalidParameter.
        return wire::model_error(wire::sns_model(), "InvalidParameterException",
                                 "Invalid parameter: " + e.message);
      });
}

bool is_sns_link_request(const http::Request& request) {
  std::string_view path = request.path();
  return request.method == "GET" &&
         (path == "/_mailtally/sns/confirm" || path == "/_mailtally/sns/unsubscribe");
}

http::Response handle_sns_link(domain::SnsStore& store, const http::Request& request) {
  http::Response r;
  r.headers.add("Content-Type", "text/xml");
  auto params = wire::FormParams::parse(request.query(), true);
  auto get = [&](std::string_view key) {
    const std::string* v = params ? params->find(key) : nullptr;
    return v ? *v : std::string();
  };
  const std::string request_id = base::uuid4();
  auto error = [&](int status, std::string_view code, std::string_view message) {
    r.status = status;
    r.body =
        "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error>"
        "<Type>Sender</Type><Code>" +
        std::string(code) + "</Code><Message>" + xml_escape(message) +
        "</Message></Error><RequestId>" + request_id + "</RequestId></ErrorResponse>";
    return r;
  };
  if (request.path() == "/_mailtally/sns/confirm") {
    auto sub = store.confirm(get("TopicArn"), get("Token"));
    if (!sub) return error(400, "InvalidParameter", "Invalid token");
    r.status = 200;
    r.body =
        "<ConfirmSubscriptionResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">"
        "<ConfirmSubscriptionResult><SubscriptionArn>" +
        xml_escape(sub->arn) +
        "</SubscriptionArn></ConfirmSubscriptionResult><ResponseMetadata><RequestId>" + request_id +
        "</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>";
    return r;
  }
  if (!store.unsubscribe(get("SubscriptionArn"))) {
    return error(404, "NotFound", "Subscription does not exist");
  }
  r.status = 200;
  r.body =
      "<UnsubscribeResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">"
      "<ResponseMetadata><RequestId>" +
      request_id + "</RequestId></ResponseMetadata></UnsubscribeResponse>";
  return r;
}

}  // namespace mailtally::services
