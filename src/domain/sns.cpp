#include "domain/sns.hpp"

#include "base/url.hpp"

namespace mailtally::domain {

bool is_valid_sns_topic_name(std::string_view name) {
  std::string_view base = name;
  if (base.size() > 5 && base.substr(base.size() - 5) == ".fifo") base.remove_suffix(5);
  if (name.empty() || name.size() > 256) return false;
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string sns_confirm_path(std::string_view topic_arn, std::string_view token) {
  return "/_mailtally/sns/confirm?TopicArn=" + base::percent_encode(topic_arn) +
         "&Token=" + base::percent_encode(token);
}

std::string sns_unsubscribe_path(std::string_view subscription_arn) {
  return "/_mailtally/sns/unsubscribe?SubscriptionArn=" + base::percent_encode(subscription_arn);
}

}  // namespace mailtally::domain
