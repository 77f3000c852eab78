// Email templates shared by SES v1 (CreateTemplate, ...) and v2 (CreateEmailTemplate, ...): a
// template created through one API is visible through the other, as in SES. The rules (names,
// sizes) live in services/ses_templates*.cpp and docs/behaviour.md; this is the storage
// interface. Adapters: storage/sqlite/template_store.cpp.
//
// Threading: every method may be called from any thread at once. Durability: every change is
// committed before the call returns. Database failures throw std::runtime_error.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailtally::domain {

inline constexpr std::size_t kMaxTemplates = 10'000;  // per account (SES quota)

struct EmailTemplate {
  std::string name;
  std::optional<std::string> subject, text, html;  // unset parts are not rendered
  double created_at = 0;                           // epoch seconds; kept by update()
};

struct TemplateSummary {
  std::string name;
  double created_at = 0;
};

enum class TemplateWrite { Done, AlreadyExists, NotFound, LimitExceeded };

class TemplateStore {
 public:
  virtual ~TemplateStore() = default;

  // AlreadyExists when the name is taken; LimitExceeded when kMaxTemplates exist.
  virtual TemplateWrite create(const EmailTemplate& t) = 0;
  // Replaces the parts of an existing template (created_at is kept); NotFound when missing.
  virtual TemplateWrite update(const EmailTemplate& t) = 0;
  // NotFound when missing.
  virtual TemplateWrite remove(std::string_view name) = 0;
  virtual std::optional<EmailTemplate> get(std::string_view name) = 0;
  // Templates in name order with name > `after` (all when empty), at most `limit`.
  virtual std::vector<TemplateSummary> list(std::string_view after, std::size_t limit) = 0;
};

}  // namespace mailtally::domain
