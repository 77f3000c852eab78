// Templated sends (SES v1 SendTemplatedEmail / SendBulkTemplatedEmail, v2 SendEmail with
// Content.Template / SendBulkEmail) and test renders: compiles a template once, renders it
// against the template data, and hands the result to the ordinary Sender path.
//
// A send whose data cannot fill the template (a missing attribute) is still validated and gets
// its MessageId; it is stored as finished (never delivered) with a "Rendering Failure" event
// and no Send event (docs/behaviour.md, spec 5.4 / 10.2).
//
// Threading: CompiledTemplate is immutable; every function here is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "base/expected.hpp"
#include "domain/template_store.hpp"
#include "sending/sender.hpp"
#include "templates/template.hpp"

namespace mailtally::sending {

// The parts of one template, each compiled once (parts absent from the template stay empty).
struct CompiledTemplate {
  std::string name;
  std::optional<templates::Template> subject, text, html;
};

// Compiles every part; the error names the part ("Subject: Unclosed block ...").
base::Expected<CompiledTemplate, std::string> compile_template(const domain::EmailTemplate& t);

struct RenderedParts {
  std::string subject;
  std::optional<std::string> text, html;
};

enum class RenderStatus {
  Ok,
  InvalidData,       // the template data is not a JSON object
  MissingAttribute,  // the data cannot fill the template (`message` is SES's text)
};

struct RenderOutcome {
  RenderStatus status = RenderStatus::Ok;
  RenderedParts parts;
  std::string message;  // for the errors
};

RenderOutcome render_template(const CompiledTemplate& t, std::string_view data_json);

// Bulk sends: the keys of `replacement` over those of `defaults` (both JSON object texts; an
// empty text counts as {}). nullopt when either is not a JSON object.
std::optional<std::string> merge_template_data(std::string_view defaults,
                                               std::string_view replacement);

// The MIME message a test render returns (TestRenderTemplate / TestRenderEmailTemplate).
std::string rendered_mime(const RenderedParts& parts, base::TimePoint now);

// Renders and sends. `request` carries everything but the content. Errors: InvalidParameter
// when the data is not a JSON object, and every error of Sender::send.
base::Expected<std::string, SendError> send_templated(Sender& sender, SendRequest request,
                                                      const CompiledTemplate& t,
                                                      std::string_view data_json);

}  // namespace mailtally::sending
