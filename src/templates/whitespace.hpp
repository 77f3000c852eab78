// Internal to src/templates: Handlebars.js' whitespace control over a parsed program — `~`
// strip marks and standalone lines (a line holding only a block tag, {{else}} or a comment
// loses its indentation and line break). Mirrors Handlebars' WhitespaceControl visitor.
#pragma once

#include "templates/ast.hpp"

namespace mailtally::templates {

void apply_whitespace_control(Program& root);

}  // namespace mailtally::templates
