// The SNS subset (2010-03-31, Query protocol) users call to subscribe HTTP endpoints to the
// topics their SES event destinations publish to: CreateTopic, DeleteTopic, ListTopics,
// GetTopicAttributes, Subscribe (http/https), Unsubscribe, ListSubscriptions,
// ListSubscriptionsByTopic, ConfirmSubscription. Every other SNS operation answers
// NotImplemented through the gateway.
//
// Also the unsigned links a subscriber receives (SubscribeURL, UnsubscribeURL):
// GET /_mailtally/sns/confirm?TopicArn=..&Token=.. and
// GET /_mailtally/sns/unsubscribe?SubscriptionArn=.. (the token or the ARN authenticates).
//
// Threading: handlers run on any HTTP worker thread. `store` and the callback must outlive the
// table.
#pragma once

#include <functional>

#include "domain/sns.hpp"
#include "http/message.hpp"
#include "services/gateway.hpp"
#include "services/operation_table.hpp"

namespace mailtally::services {

// Called after a new subscription is stored (it is confirmed at once); the caller sends the
// SubscriptionConfirmation message to the endpoint.
using SnsSubscribedHook = std::function<void(const domain::SnsSubscription&)>;

void register_sns(OperationTable& table, domain::SnsStore& store, SnsSubscribedHook on_subscribed);
// Model violations (missing Name, ...) answer SNS's InvalidParameter.
void install_sns_validation_mapper(Gateway& gateway);

bool is_sns_link_request(const http::Request& request);
http::Response handle_sns_link(domain::SnsStore& store, const http::Request& request);

}  // namespace mailtally::services
