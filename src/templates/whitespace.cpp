#include "templates/whitespace.hpp"

#include <optional>

namespace mailtally::templates {
namespace {

// JavaScript's \s for the ASCII range.
bool ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// The whitespace run at the end / start of `s` contains a line break.
bool trailing_ws_has_newline(const std::string& s) {
  for (auto i = s.size(); i > 0 && ws(s[i - 1]); --i) {
    if (s[i - 1] == '\n') return true;
  }
  return false;
}
bool leading_ws_has_newline(const std::string& s) {
  for (char c : s) {
    if (!ws(c)) return false;
    if (c == '\n') return true;
  }
  return false;
}
bool all_ws(const std::string& s) {
  for (char c : s) {
    if (!ws(c)) return false;
  }
  return true;
}

using Body = std::vector<Node>;

// isPrevWhitespace(body, i, isRoot); i = nullopt means "after the last statement".
bool is_prev_ws(const Body& body, std::optional<std::size_t> i, bool is_root) {
  std::size_t idx = i ? *i : body.size();
  if (idx == 0) return is_root;
  const Node& prev = body[idx - 1];
  bool sibling = idx >= 2;
  if (prev.kind != Node::Kind::Content) return false;
  if (sibling || !is_root) return trailing_ws_has_newline(prev.original);
  return all_ws(prev.original) || trailing_ws_has_newline(prev.original);
}

// isNextWhitespace(body, i, isRoot); i = nullopt means "before the first statement".
bool is_next_ws(const Body& body, std::optional<std::size_t> i, bool is_root) {
  std::size_t idx = i ? *i + 1 : 0;
  if (idx >= body.size()) return is_root;
  const Node& next = body[idx];
  bool sibling = idx + 1 < body.size();
  if (next.kind != Node::Kind::Content) return false;
  if (sibling || !is_root) return leading_ws_has_newline(next.original);
  return all_ws(next.original) || leading_ws_has_newline(next.original);
}

// omitRight: strips the start of the content after statement i (or the first one).
void omit_right(Body& body, std::optional<std::size_t> i, bool multiple = false) {
  std::size_t idx = i ? *i + 1 : 0;
  if (idx >= body.size()) return;
  Node& cur = body[idx];
  if (cur.kind != Node::Kind::Content || (!multiple && cur.right_stripped)) return;
  std::string& v = cur.value;
  std::size_t n = 0;
  if (multiple) {
    while (n < v.size() && ws(v[n])) ++n;
  } else {  // /^[ \t]*\r?\n?/
    while (n < v.size() && (v[n] == ' ' || v[n] == '\t')) ++n;
    if (n < v.size() && v[n] == '\r') ++n;
    if (n < v.size() && v[n] == '\n') ++n;
  }
  v.erase(0, n);
  cur.right_stripped = n > 0;
}

// omitLeft: strips the end of the content before statement i (or the last one).
bool omit_left(Body& body, std::optional<std::size_t> i, bool multiple = false) {
  if (i && *i == 0) return false;
  std::size_t idx = i ? *i - 1 : body.size() - 1;
  if (body.empty() || idx >= body.size()) return false;
  Node& cur = body[idx];
  if (cur.kind != Node::Kind::Content || (!multiple && cur.left_stripped)) return false;
  std::string& v = cur.value;
  std::size_t end = v.size();
  if (multiple) {
    while (end > 0 && ws(v[end - 1])) --end;
  } else {
    while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t')) --end;
  }
  bool changed = end != v.size();
  v.erase(end);
  cur.left_stripped = changed;
  return changed;
}

struct StripInfo {
  bool open = false, close = false;
  bool open_standalone = false, close_standalone = false, inline_standalone = false;
};

void visit_program(Program& program, bool is_root);

StripInfo visit_block(Node& block) {
  if (block.program) visit_program(*block.program, false);
  if (block.inverse) visit_program(*block.inverse, false);
  Program* program = block.program.get();
  Program* inverse = block.inverse.get();
  Program* first_inverse = inverse;
  Program* last_inverse = inverse;
  if (inverse && block.inverse_chained) {
    first_inverse = inverse->body[0].program.get();
    Node* chain = &inverse->body[0];
    while (chain->inverse_chained) chain = &chain->inverse->body[0];
    last_inverse = chain->inverse ? chain->inverse.get() : chain->program.get();
  }
  StripInfo strip;
  strip.open = block.open_strip.open;
  strip.close = block.close_strip.close;
  strip.open_standalone = is_next_ws(program->body, std::nullopt, false);
  strip.close_standalone =
      is_prev_ws((first_inverse ? first_inverse : program)->body, std::nullopt, false);
  if (block.open_strip.close) omit_right(program->body, std::nullopt, true);
  if (inverse) {
    if (block.inverse_strip.open) omit_left(program->body, std::nullopt, true);
    if (block.inverse_strip.close) omit_right(first_inverse->body, std::nullopt, true);
    if (block.close_strip.open) omit_left(last_inverse->body, std::nullopt, true);
    // A standalone {{else}}.
    if (is_prev_ws(program->body, std::nullopt, false) &&
        is_next_ws(first_inverse->body, std::nullopt, false)) {
      omit_left(program->body, std::nullopt);
      omit_right(first_inverse->body, std::nullopt);
    }
  } else if (block.close_strip.open) {
    omit_left(program->body, std::nullopt, true);
  }
  return strip;
}

void visit_program(Program& program, bool is_root) {
  Body& body = program.body;
  for (std::size_t i = 0; i < body.size(); ++i) {
    Node& current = body[i];
    StripInfo strip;
    switch (current.kind) {
      case Node::Kind::Content:
        continue;
      case Node::Kind::Output:
        strip.open = current.strip.open;
        strip.close = current.strip.close;
        break;
      case Node::Kind::Comment:
        strip.open = current.strip.open;
        strip.close = current.strip.close;
        strip.inline_standalone = true;
        break;
      case Node::Kind::Block:
        strip = visit_block(current);
        break;
    }
    bool prev_ws = is_prev_ws(body, i, is_root);
    bool next_ws = is_next_ws(body, i, is_root);
    bool open_standalone = strip.open_standalone && prev_ws;
    bool close_standalone = strip.close_standalone && next_ws;
    bool inline_standalone = strip.inline_standalone && prev_ws && next_ws;
    if (strip.close) omit_right(body, i, true);
    if (strip.open) omit_left(body, i, true);
    if (inline_standalone) {
      omit_right(body, i);
      omit_left(body, i);
    }
    if (open_standalone) {
      Program* p = current.program ? current.program.get() : current.inverse.get();
      omit_right(p->body, std::nullopt);
      omit_left(body, i);
    }
    if (close_standalone) {
      omit_right(body, i);
      Program* p = current.inverse ? current.inverse.get() : current.program.get();
      omit_left(p->body, std::nullopt);
    }
  }
}

}  // namespace

void apply_whitespace_control(Program& root) { visit_program(root, true); }

}  // namespace mailtally::templates
