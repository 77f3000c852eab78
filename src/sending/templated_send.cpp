#include "sending/templated_send.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "base/crypto.hpp"
#include "sending/header_block.hpp"
#include "sending/ids.hpp"
#include "sending/mime_build.hpp"

namespace mailtally::sending {
namespace json = boost::json;
namespace {

std::optional<json::object> parse_object(std::string_view text) {
  if (text.empty()) return json::object();
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

// Compiles one optional part into `out`; returns the error text or "".
std::string compile_part(const char* label, const std::optional<std::string>& source,
                         std::optional<templates::Template>& out) {
  if (!source) return {};
  auto t = templates::Template::parse(*source);
  if (!t) return std::string(label) + ": " + t.error().message;
  out = std::move(*t);
  return {};
}

}  // namespace

base::Expected<CompiledTemplate, std::string> compile_template(const domain::EmailTemplate& t) {
  CompiledTemplate c;
  c.name = t.name;
  for (auto error : {compile_part("Subject", t.subject, c.subject),
                     compile_part("Text", t.text, c.text), compile_part("Html", t.html, c.html)}) {
    if (!error.empty()) return base::unexpected(std::move(error));
  }
  return c;
}

RenderOutcome render_template(const CompiledTemplate& t, std::string_view data_json) {
  RenderOutcome out;
  auto data = parse_object(data_json);
  if (!data || data_json.empty()) {
    out.status = RenderStatus::InvalidData;
    out.message = "Template data must be a JSON object.";
    return out;
  }
  const json::value root(std::move(*data));
  auto part = [&](const std::optional<templates::Template>& tpl,
                  std::optional<std::string>& into) -> bool {
    if (!tpl) return true;
    auto r = tpl->render(root);
    if (!r) {
      out.status = RenderStatus::MissingAttribute;
      out.message = r.error().message();
      return false;
    }
    into = std::move(*r);
    return true;
  };
  std::optional<std::string> subject;
  if (!part(t.subject, subject) || !part(t.text, out.parts.text) || !part(t.html, out.parts.html)) {
    out.parts = {};
    return out;
  }
  out.parts.subject = subject.value_or(std::string());
  return out;
}

std::optional<std::string> merge_template_data(std::string_view defaults,
                                               std::string_view replacement) {
  auto base = parse_object(defaults);
  auto over = parse_object(replacement);
  if (!base || !over) return std::nullopt;
  for (auto& [key, value] : *over) (*base)[key] = std::move(value);
  return json::serialize(*base);
}

std::string rendered_mime(const RenderedParts& parts, base::TimePoint now) {
  SimpleContent c;
  c.subject.data = parts.subject;
  if (parts.text) c.text = TextPart{*parts.text, "UTF-8"};
  if (parts.html) c.html = TextPart{*parts.html, "UTF-8"};
  auto random = base::random_bytes(12);
  c.boundary = "----=_Part_" +
               base::hex(reinterpret_cast<const std::uint8_t*>(random.data()), random.size());
  c.message_id_header = "<" + make_message_id(now) + "@email.amazonses.com>";
  c.date = epoch_seconds(now);
  // A test render has no sender or recipients.
  return remove_headers(build_simple_message(c), {"From"});
}

base::Expected<std::string, SendError> send_templated(Sender& sender, SendRequest request,
                                                      const CompiledTemplate& t,
                                                      std::string_view data_json) {
  RenderOutcome r = render_template(t, data_json);
  if (r.status == RenderStatus::InvalidData) {
    return base::unexpected(
        SendError{SendErrorKind::InvalidParameter, "Invalid template data: " + r.message, {}});
  }
  SimpleBody body;
  if (r.status == RenderStatus::MissingAttribute) {
    // Validated and stored like any send, never delivered (see the header).
    request.rendering_failure = SendRequest::RenderingFailure{t.name, r.message};
    body.text = TextPart{};
  } else {
    body.subject.data = std::move(r.parts.subject);
    if (r.parts.text) body.text = TextPart{std::move(*r.parts.text), "UTF-8"};
    if (r.parts.html) body.html = TextPart{std::move(*r.parts.html), "UTF-8"};
    if (!body.text && !body.html) body.text = TextPart{};
  }
  request.simple = std::move(body);
  request.raw.reset();
  return sender.send(request);
}

}  // namespace mailtally::sending
