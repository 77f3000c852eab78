// The SES v2 account-level suppression list: addresses SES does not deliver to, each with the
// reason it was added (BOUNCE or COMPLAINT), and the account's SuppressedReasons (which reasons
// make SES add addresses automatically and refuse delivery to listed ones). A configuration
// set's SuppressionOptions, when present, replace the account's reasons for its messages.
//
// Threading: every store method may be called from any thread at once. Durability: changes are
// committed (survive kill -9) before the call returns. Database failures throw
// std::runtime_error.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailtally::domain {

inline constexpr std::string_view kSuppressBounce = "BOUNCE";
inline constexpr std::string_view kSuppressComplaint = "COMPLAINT";

struct SuppressedDestination {
  std::string email_address;  // compared case-insensitively
  std::string reason;         // "BOUNCE" or "COMPLAINT"
  double last_update = 0;     // epoch seconds
  std::string message_id;     // the message that caused the entry; empty when put by the API
  std::string feedback_id;    // the bounce's / complaint's feedbackId; empty when put by the API
};

struct SuppressionFilter {
  std::vector<std::string> reasons;  // empty: every reason
  std::optional<double> start;       // last_update >= start
  std::optional<double> end;         // last_update <= end
  std::string after;                 // only addresses ordered after this one (page position)
  std::size_t limit = 1000;
};

class SuppressionStore {
 public:
  virtual ~SuppressionStore() = default;
  // Inserts, or replaces the entry of the same address (case-insensitive).
  virtual void put_suppressed(const SuppressedDestination& d) = 0;
  virtual std::optional<SuppressedDestination> get_suppressed(std::string_view email) = 0;
  // false when the address was not listed.
  virtual bool delete_suppressed(std::string_view email) = 0;
  // Ascending by lower-cased address, filtered, at most `limit`.
  virtual std::vector<SuppressedDestination> list_suppressed(const SuppressionFilter& f) = 0;
  // The account's SuppressedReasons; empty until PutAccountSuppressionAttributes.
  virtual std::vector<std::string> account_suppressed_reasons() = 0;
  virtual void set_account_suppressed_reasons(const std::vector<std::string>& reasons) = 0;
};

// The reasons that apply to a message: the configuration set's SuppressionOptions when it has
// them (even an empty list), else the account's.
inline const std::vector<std::string>& effective_suppressed_reasons(
    const std::optional<std::vector<std::string>>& set_reasons,
    const std::vector<std::string>& account_reasons) {
  return set_reasons ? *set_reasons : account_reasons;
}

inline bool reasons_include(const std::vector<std::string>& reasons, std::string_view reason) {
  for (const auto& r : reasons) {
    if (r == reason) return true;
  }
  return false;
}

}  // namespace mailtally::domain
