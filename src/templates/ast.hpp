// Internal to src/templates: the compiled form of a template (a Handlebars-like AST after the
// whitespace-control pass). Immutable once parse() returns.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace mailtally::templates {

// A path expression: `a.b`, `this`, `../x`, `@index`, `@root.a`.
struct Path {
  std::string original;            // as written, for error messages and close-tag matching
  std::size_t depth = 0;           // number of leading `../`
  bool data = false;               // starts with `@`
  std::vector<std::string> parts;  // empty: the context itself (`this`, `.`)
};

struct Program;

// `{{~x~}}` strip flags of one tag: `open` = `~` after `{{`, `close` = `~` before `}}`.
struct Strip {
  bool open = false;
  bool close = false;
};

enum class BlockKind { If, Unless, Each, With, Section };

struct Node {
  enum class Kind { Content, Output, Block, Comment } kind = Kind::Content;
  // Content
  std::string original;  // text as in the source
  std::string value;     // text after whitespace control
  bool left_stripped = false, right_stripped = false;
  // Output and Block
  Path path;
  Strip strip;  // Output / Comment: the tag's own flags
  // Block
  BlockKind block = BlockKind::Section;
  std::string helper_name;  // as written after `#`
  std::unique_ptr<Program> program, inverse;
  bool inverse_chained = false;  // inverse holds one Block from `{{else if ...}}`
  Strip open_strip, inverse_strip, close_strip;
};

struct Program {
  std::vector<Node> body;
};

}  // namespace mailtally::templates
