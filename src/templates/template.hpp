// The SES template engine: the Handlebars subset SES supports (docs/templates.md), compiled once
// and rendered against JSON data. Pure library: no I/O, no clock, no globals.
//
// Supported: `{{path}}`, `{{{path}}}`, `{{&path}}` (all unescaped, as SES), dotted paths,
// `this`, `./`, `../`, `@root`, `@index`, `@first`, `@last`, `@key`, `{{#if}}`, `{{#unless}}`,
// `{{#each}}`, `{{#with}}`, `{{else}}` / `{{^}}`, chained `{{else if x}}`, sections
// `{{#name}}...{{/name}}` (Handlebars' blockHelperMissing), comments, whitespace control `~` and
// Handlebars' standalone-line rules.
//
// Semantics follow Handlebars.js with `noEscape: true`, except that an output expression whose
// path is not present in the data is an error (SES: "Attribute 'x' is not present in the
// rendering data."). Block parameters that are missing are simply falsy.
//
// Threading: a Template is immutable after parse(); render() may run on many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/expected.hpp"

namespace boost::json {
class value;
}  // namespace boost::json

namespace mailtally::templates {

struct Program;  // the compiled form (template.cpp)

struct ParseError {
  std::string message;  // e.g. "Unclosed block {{#if}} at line 3"
  std::size_t line = 0;
};

struct RenderError {
  std::string attribute;   // the path as written in the template, e.g. "contact.firstName"
  bool too_large = false;  // the output or the work exceeded the limits below
  std::string message() const {
    if (too_large) return "The rendered template exceeds the size limit.";
    return "Attribute '" + attribute + "' is not present in the rendering data.";
  }
};

// Limits that keep a hostile template from exhausting the server.
inline constexpr std::size_t kMaxNesting = 100;                     // nested blocks
inline constexpr std::size_t kMaxRenderedBytes = 10 * 1024 * 1024;  // one rendered part
inline constexpr std::size_t kMaxRenderSteps = 5'000'000;           // nodes evaluated

class Template {
 public:
  static base::Expected<Template, ParseError> parse(std::string_view source);

  // Renders against `data` (the template data; normally a JSON object). Output longer than
  // kMaxRenderedBytes, or a render needing more than kMaxRenderSteps steps, is an error.
  base::Expected<std::string, RenderError> render(const boost::json::value& data) const;

 private:
  explicit Template(std::shared_ptr<const Program> program) : program_(std::move(program)) {}
  std::shared_ptr<const Program> program_;
};

// The text Handlebars.js prints for a JSON value: strings as is, numbers as JavaScript's
// Number#toString, true/false, "" for null, arrays joined with ",", objects "[object Object]".
std::string to_display_string(const boost::json::value& v);

}  // namespace mailtally::templates
