// SES v1 and v2 template operations over one domain::TemplateStore (see ses_templates.hpp).
#include "services/ses_templates.hpp"

#include "base/crypto.hpp"
#include "sending/ids.hpp"
#include "sending/templated_send.hpp"
#include "services/doc.hpp"

namespace mailtally::services {
namespace json = boost::json;
namespace {

constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kMaxTemplateBytes = 500 * 1024;  // subject + text + html (SES quota)
constexpr std::size_t kDefaultPage = 10;
constexpr std::size_t kMaxPage = 100;

using Fail = base::Unexpected<wire::ApiError>;

// The two APIs' spellings of the same failures.
struct Api {
  bool v2;
  const wire::Service& model;
  wire::ApiError invalid(std::string message) const {
    return v2 ? wire::model_error(model, "BadRequestException", std::move(message))
              : wire::generic_error(400, "InvalidParameterValue", std::move(message));
  }
  wire::ApiError not_found(const std::string& name) const {
    std::string message = "Template " + name + " does not exist.";
    if (v2) return wire::model_error(model, "NotFoundException", std::move(message));
    auto e = wire::model_error(model, "TemplateDoesNotExistException", std::move(message));
    e.fields["TemplateName"] = name;
    return e;
  }
  wire::ApiError exists(const std::string& name) const {
    std::string message = "Template " + name + " already exists.";
    if (v2) return wire::model_error(model, "AlreadyExistsException", std::move(message));
    auto e = wire::model_error(model, "AlreadyExistsException", std::move(message));
    e.fields["Name"] = name;
    return e;
  }
  wire::ApiError limit() const {
    return wire::model_error(model, "LimitExceededException",
                             "The maximum number of templates (" +
                                 std::to_string(domain::kMaxTemplates) + ") has been reached.");
  }
  wire::ApiError bad_template(const std::string& name, std::string message) const {
    if (v2) return invalid("Invalid template: " + message);
    auto e = wire::model_error(model, "InvalidTemplateException", std::move(message));
    e.fields["TemplateName"] = name;
    return e;
  }
};

bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > kMaxNameLength) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Name, size and syntax rules of a template about to be stored.
std::optional<wire::ApiError> check(const Api& api, const domain::EmailTemplate& t) {
  if (!valid_name(t.name)) {
    return api.invalid("Invalid template name '" + t.name +
                       "': use 1 to 64 ASCII letters, digits, underscores (_) or dashes (-).");
  }
  std::size_t bytes =
      t.subject.value_or("").size() + t.text.value_or("").size() + t.html.value_or("").size();
  if (bytes > kMaxTemplateBytes) {
    return api.invalid("Template " + t.name + " is " + std::to_string(bytes) +
                       " bytes; the limit is " + std::to_string(kMaxTemplateBytes) + " bytes.");
  }
  if (auto c = sending::compile_template(t); !c) return api.bad_template(t.name, c.error());
  return std::nullopt;
}

domain::EmailTemplate from_v1(const json::object& in) {
  domain::EmailTemplate t;
  if (const auto* tpl = doc::obj(in, "Template")) {
    t.name = doc::str(*tpl, "TemplateName");
    t.subject = doc::opt_str(*tpl, "SubjectPart");
    t.text = doc::opt_str(*tpl, "TextPart");
    t.html = doc::opt_str(*tpl, "HtmlPart");
  }
  return t;
}

domain::EmailTemplate from_v2(const json::object& in) {
  domain::EmailTemplate t;
  t.name = doc::str(in, "TemplateName");
  if (const auto* c = doc::obj(in, "TemplateContent")) {
    t.subject = doc::opt_str(*c, "Subject");
    t.text = doc::opt_str(*c, "Text");
    t.html = doc::opt_str(*c, "Html");
  }
  return t;
}

// Pagination: the token is the last name of the previous page, base64-encoded.
base::Expected<std::vector<domain::TemplateSummary>, wire::ApiError> page(
    const Api& api, domain::TemplateStore& store, const json::object& in, std::string_view size_key,
    std::optional<std::string>& next) {
  std::size_t size = kDefaultPage;
  if (auto n = doc::opt_int(in, size_key)) {
    if (*n < 1 || (api.v2 && *n > static_cast<std::int64_t>(kMaxPage))) {
      return Fail{api.invalid(std::string(size_key) + " must be between 1 and 100.")};
    }
    size = std::min(static_cast<std::size_t>(*n), kMaxPage);
  }
  std::string after;
  if (auto token = doc::opt_str(in, "NextToken"); token && !token->empty()) {
    auto decoded = base::base64_decode(*token);
    if (!decoded || decoded->substr(0, 2) != "t:") {
      return Fail{api.invalid("Invalid NextToken.")};
    }
    after = decoded->substr(2);
  }
  auto items = store.list(after, size + 1);
  if (items.size() > size) {
    items.resize(size);
    next = base::base64_encode("t:" + items.back().name);
  }
  return items;
}

// TestRender*: the rendered MIME, or the API's rendering error.
Output test_render(const Api& api, domain::TemplateStore& store, const base::Clock& clock,
                   const std::string& name, const std::string& data) {
  auto t = store.get(name);
  if (!t) return Fail{api.not_found(name)};
  auto compiled = sending::compile_template(*t);
  if (!compiled) return Fail{api.bad_template(name, compiled.error())};
  auto r = sending::render_template(*compiled, data);
  if (r.status != sending::RenderStatus::Ok) {
    if (api.v2) return Fail{api.invalid(r.message)};
    bool missing = r.status == sending::RenderStatus::MissingAttribute;
    auto e = wire::model_error(
        api.model,
        missing ? "MissingRenderingAttributeException" : "InvalidRenderingParameterException",
        r.message);
    e.fields["TemplateName"] = name;
    return Fail{e};
  }
  return json::object{{"RenderedTemplate", sending::rendered_mime(r.parts, clock.now())}};
}

}  // namespace

namespace templates_detail {

void register_crud(OperationTable& t, domain::TemplateStore& store, const base::Clock& clock) {
  const Api v1{false, wire::ses_v1_model()};
  const Api v2{true, wire::ses_v2_model()};

  auto create = [&store, &clock](Api api, domain::EmailTemplate tpl) -> Output {
    if (auto e = check(api, tpl)) return Fail{*e};
    tpl.created_at = sending::epoch_seconds(clock.now());
    switch (store.create(tpl)) {
      case domain::TemplateWrite::AlreadyExists:
        return Fail{api.exists(tpl.name)};
      case domain::TemplateWrite::LimitExceeded:
        return Fail{api.limit()};
      default:
        return json::object();
    }
  };
  auto update = [&store](Api api, const domain::EmailTemplate& tpl) -> Output {
    if (!store.get(tpl.name)) return Fail{api.not_found(tpl.name)};
    if (auto e = check(api, tpl)) return Fail{*e};
    if (store.update(tpl) == domain::TemplateWrite::NotFound) return Fail{api.not_found(tpl.name)};
    return json::object();
  };

  t.add(v1.model, "CreateTemplate", [v1, create](const CallContext&, const json::object& in) {
    return create(v1, from_v1(in));
  });
  t.add(v2.model, "CreateEmailTemplate", [v2, create](const CallContext&, const json::object& in) {
    return create(v2, from_v2(in));
  });
  t.add(v1.model, "UpdateTemplate", [v1, update](const CallContext&, const json::object& in) {
    return update(v1, from_v1(in));
  });
  t.add(v2.model, "UpdateEmailTemplate", [v2, update](const CallContext&, const json::object& in) {
    return update(v2, from_v2(in));
  });

  // v1 DeleteTemplate models no error: deleting a missing template succeeds (as SES).
  t.add(v1.model, "DeleteTemplate", [&store](const CallContext&, const json::object& in) -> Output {
    store.remove(doc::str(in, "TemplateName"));
    return json::object();
  });
  t.add(v2.model, "DeleteEmailTemplate",
        [&store, v2](const CallContext&, const json::object& in) -> Output {
          std::string name = doc::str(in, "TemplateName");
          if (store.remove(name) == domain::TemplateWrite::NotFound) {
            return Fail{v2.not_found(name)};
          }
          return json::object();
        });

  t.add(v1.model, "GetTemplate",
        [&store, v1](const CallContext&, const json::object& in) -> Output {
          std::string name = doc::str(in, "TemplateName");
          auto tpl = store.get(name);
          if (!tpl) return Fail{v1.not_found(name)};
          json::object out{{"TemplateName", tpl->name}};
          if (tpl->subject) out["SubjectPart"] = *tpl->subject;
          if (tpl->text) out["TextPart"] = *tpl->text;
          if (tpl->html) out["HtmlPart"] = *tpl->html;
          return json::object{{"Template", std::move(out)}};
        });
  t.add(v2.model, "GetEmailTemplate",
        [&store, v2](const CallContext&, const json::object& in) -> Output {
          std::string name = doc::str(in, "TemplateName");
          auto tpl = store.get(name);
          if (!tpl) return Fail{v2.not_found(name)};
          json::object content;
          if (tpl->subject) content["Subject"] = *tpl->subject;
          if (tpl->text) content["Text"] = *tpl->text;
          if (tpl->html) content["Html"] = *tpl->html;
          return json::object{{"TemplateName", tpl->name}, {"TemplateContent", std::move(content)}};
        });

  auto list = [&store](Api api, std::string_view size_key, std::string_view name_key) {
    return [&store, api, size_key, name_key](const CallContext&, const json::object& in) -> Output {
      std::optional<std::string> next;
      auto items = page(api, store, in, size_key, next);
      if (!items) return Fail{items.error()};
      json::array meta;
      for (const auto& s : *items) {
        meta.push_back(json::object{{name_key, s.name}, {"CreatedTimestamp", s.created_at}});
      }
      json::object out{{"TemplatesMetadata", std::move(meta)}};
      if (next) out["NextToken"] = *next;
      return out;
    };
  };
  t.add(v1.model, "ListTemplates", list(v1, "MaxItems", "Name"));
  t.add(v2.model, "ListEmailTemplates", list(v2, "PageSize", "TemplateName"));

  t.add(v1.model, "TestRenderTemplate",
        [&store, &clock, v1](const CallContext&, const json::object& in) -> Output {
          return test_render(v1, store, clock, doc::str(in, "TemplateName"),
                             doc::str(in, "TemplateData"));
        });
  t.add(v2.model, "TestRenderEmailTemplate",
        [&store, &clock, v2](const CallContext&, const json::object& in) -> Output {
          return test_render(v2, store, clock, doc::str(in, "TemplateName"),
                             doc::str(in, "TemplateData"));
        });
}

}  // namespace templates_detail

void register_ses_templates(OperationTable& table, domain::TemplateStore& templates,
                            sending::Sender& sender, const base::Clock& clock) {
  templates_detail::register_crud(table, templates, clock);
  templates_detail::register_sends(table, templates, sender);
}

}  // namespace mailtally::services
