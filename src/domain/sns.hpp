// The SNS subset mailtally serves so users can subscribe HTTP endpoints to the topics their SES
// event destinations publish to: topics, http/https subscriptions, and the store interface the
// SQLite adapter implements. Pure values: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailtally::domain {

struct SnsTopic {
  std::string arn;  // arn:aws:sns:REGION:ACCOUNT:NAME
  std::string name;
  std::string display_name;  // the DisplayName attribute ("" when not set)
  double created_at = 0;     // epoch seconds
};

struct SnsSubscription {
  std::string arn;  // TOPIC_ARN:UUID
  std::string topic_arn;
  std::string protocol;  // "http" or "https"
  std::string endpoint;  // the subscriber URL
  std::string token;     // the confirmation token sent in the SubscriptionConfirmation
  bool confirmed = true;
  double created_at = 0;
};

// Threading: every method may be called from any thread. Every change is committed before the
// call returns. Database failures throw std::runtime_error.
class SnsStore {
 public:
  virtual ~SnsStore() = default;
  // Creates the topic, or returns the existing one with that ARN (CreateTopic is idempotent).
  virtual SnsTopic create_topic(const SnsTopic& topic) = 0;
  virtual std::optional<SnsTopic> get_topic(std::string_view arn) = 0;
  // Deletes the topic and its subscriptions; false when there was no such topic.
  virtual bool delete_topic(std::string_view arn) = 0;
  virtual std::vector<SnsTopic> list_topics() = 0;
  // Stores the subscription, or returns the existing one for the same topic, protocol and
  // endpoint (Subscribe is idempotent).
  virtual SnsSubscription subscribe(const SnsSubscription& subscription) = 0;
  virtual bool unsubscribe(std::string_view subscription_arn) = 0;
  // Every subscription (topic_arn empty) or those of one topic, in creation order.
  virtual std::vector<SnsSubscription> subscriptions(std::string_view topic_arn) = 0;
  // Marks the subscription of `topic_arn` with `token` confirmed; nullopt when none matches.
  virtual std::optional<SnsSubscription> confirm(std::string_view topic_arn,
                                                 std::string_view token) = 0;
};

// SNS topic names: 1-256 ASCII letters, digits, '_' and '-' (".fifo" suffix for FIFO topics).
bool is_valid_sns_topic_name(std::string_view name);

// The paths of this server's SubscribeURL and UnsubscribeURL links (append to its base URL);
// services/sns.cpp answers them, destinations/ puts them into the messages it posts.
std::string sns_confirm_path(std::string_view topic_arn, std::string_view token);
std::string sns_unsubscribe_path(std::string_view subscription_arn);

}  // namespace mailtally::domain
