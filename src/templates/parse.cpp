// Template::parse: tokenizer, block structure, and Handlebars' whitespace control (the `~` marks
// and standalone lines), mirroring Handlebars.js 4 so rendered whitespace matches it.
#include <algorithm>

#include "templates/ast.hpp"
#include "templates/template.hpp"
#include "templates/whitespace.hpp"

namespace mailtally::templates {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Characters Handlebars.js does not allow in an identifier.
bool is_id_char(char c) {
  if (is_space(c)) return false;
  static constexpr std::string_view kForbidden = "!\"#%&'()*+,./;<=>@[\\]^`{|}~";
  return kForbidden.find(c) == std::string_view::npos && c != '\0';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

struct Failure {
  std::string message;
};

// Parses one path expression; throws Failure.
Path parse_path(std::string_view text) {
  Path p;
  p.original = std::string(text);
  std::string_view s = text;
  if (s.empty()) throw Failure{"Expected a path expression"};
  if (s.front() == '@') {
    p.data = true;
    s.remove_prefix(1);
  }
  while (s.substr(0, 3) == "../") {
    ++p.depth;
    s.remove_prefix(3);
  }
  if (s == "..") {
    ++p.depth;
    s = {};
  }
  if (!p.data && (s == "this" || s == ".")) return p;
  if (!p.data && (s.substr(0, 5) == "this." || s.substr(0, 5) == "this/")) s.remove_prefix(5);
  if (!p.data && s.substr(0, 2) == "./") s.remove_prefix(2);
  if (s.empty() && p.depth > 0) return p;
  while (true) {
    if (s.empty()) throw Failure{"Invalid path '" + p.original + "'"};
    std::string part;
    if (s.front() == '[') {
      auto end = s.find(']');
      if (end == std::string_view::npos) throw Failure{"Unclosed [ in path '" + p.original + "'"};
      part = std::string(s.substr(1, end - 1));
      s.remove_prefix(end + 1);
    } else {
      std::size_t n = 0;
      while (n < s.size() && is_id_char(s[n])) ++n;
      if (n == 0) throw Failure{"Invalid path '" + p.original + "'"};
      part = std::string(s.substr(0, n));
      s.remove_prefix(n);
      if (part == "this" || part == "..") {
        throw Failure{"Invalid path '" + p.original + "'"};
      }
      if (p.parts.empty() && !p.data &&
          (std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
           part == "true" || part == "false" || part == "null" || part == "undefined")) {
        throw Failure{"Literal values are not supported: '" + p.original + "'"};
      }
    }
    p.parts.push_back(std::move(part));
    if (s.empty()) break;
    if (s.front() != '.' && s.front() != '/') throw Failure{"Invalid path '" + p.original + "'"};
    s.remove_prefix(1);
  }
  return p;
}

// Splits a tag's expression into whitespace-separated tokens ([...] segments kept whole).
std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i >= s.size()) break;
    std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) {
      if (s[i] == '[') {
        auto end = s.find(']', i);
        i = end == std::string_view::npos ? s.size() : end + 1;
      } else {
        ++i;
      }
    }
    out.push_back(s.substr(start, i - start));
  }
  return out;
}

struct Frame {
  Node* block = nullptr;       // nullptr: the root
  Program* current = nullptr;  // where statements go
  bool chained = false;        // opened by `{{else if ...}}`: closed with its parent
  bool in_inverse = false;
  std::size_t line = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src) {}

  std::unique_ptr<Program> run() {
    auto root = std::make_unique<Program>();
    stack_.push_back(Frame{nullptr, root.get(), false, false, 1});
    std::size_t pos = 0;
    std::string pending;  // content being collected
    while (pos < src_.size()) {
      auto open = src_.find("{{", pos);
      if (open == std::string_view::npos) {
        pending.append(src_.substr(pos));
        break;
      }
      // `\{{` is a literal `{{` (up to the next `{{`); `\\{{` is a backslash and a tag.
      {
        bool escaped = open >= 1 && src_[open - 1] == '\\';
        bool double_escaped = escaped && open >= 2 && src_[open - 2] == '\\';
        if (escaped && !double_escaped) {
          pending.append(src_.substr(pos, open - 1 - pos));
          auto next = src_.find("{{", open + 2);
          if (next == std::string_view::npos) next = src_.size();
          pending.append(src_.substr(open, next - open));
          pos = next;
          continue;
        }
        std::size_t keep = double_escaped ? open - 1 : open;
        pending.append(src_.substr(pos, keep - pos));
      }
      flush(pending);
      pos = tag(open);
    }
    flush(pending);
    if (stack_.size() > 1) {
      const Frame& f = stack_.back();
      fail_at(f.line, "Unclosed block {{#" + f.block->helper_name + "}}");
    }
    return root;
  }

 private:
  [[noreturn]] void fail_at(std::size_t line, const std::string& message) {
    throw ParseError{message + " (line " + std::to_string(line) + ")", line};
  }

  // Line number of `pos`; positions only grow, so counting resumes where it stopped.
  std::size_t line_of(std::size_t pos) {
    if (pos < counted_pos_) {
      counted_pos_ = 0;
      counted_line_ = 1;
    }
    counted_line_ +=
        static_cast<std::size_t>(std::count(src_.begin() + counted_pos_, src_.begin() + pos, '\n'));
    counted_pos_ = pos;
    return counted_line_;
  }

  void flush(std::string& pending) {
    if (pending.empty()) return;
    Node n;
    n.kind = Node::Kind::Content;
    n.original = pending;
    n.value = std::move(pending);
    pending.clear();
    stack_.back().current->body.push_back(std::move(n));
  }

  // Parses the tag starting at `open` ("{{"); returns the position after it.
  std::size_t tag(std::size_t open) {
    std::size_t line = line_of(open);
    std::size_t p = open + 2;
    Strip strip;
    if (p < src_.size() && src_[p] == '~') {
      strip.open = true;
      ++p;
    }
    bool triple = p < src_.size() && src_[p] == '{';
    if (triple) ++p;
    // Long comments may contain "}}".
    if (!triple && src_.substr(p, 3) == "!--") {
      auto end = src_.find("--}}", p + 3);
      auto end_strip = src_.find("--~}}", p + 3);
      if (end == std::string_view::npos && end_strip == std::string_view::npos) {
        fail_at(line, "Unclosed comment");
      }
      std::size_t close_at = std::min(end, end_strip);
      Node n;
      n.kind = Node::Kind::Comment;
      n.strip = strip;
      n.strip.close = close_at == end_strip;
      stack_.back().current->body.push_back(std::move(n));
      return close_at + (close_at == end_strip ? 5 : 4);
    }
    // `}}` / `~}}`, or for a triple-stash `}}}` / `}~}}`.
    std::size_t close = std::string_view::npos;
    std::size_t after = 0;
    std::size_t inner_end = 0;
    if (triple) {
      auto plain = src_.find("}}}", p);
      auto tilde = src_.find("}~}}", p);
      close = std::min(plain, tilde);
      if (close != std::string_view::npos) {
        strip.close = close == tilde;
        inner_end = close;
        after = close + (strip.close ? 4 : 3);
      }
    } else {
      close = src_.find("}}", p);
      if (close != std::string_view::npos) {
        after = close + 2;
        inner_end = close;
        if (inner_end > p && src_[inner_end - 1] == '~') {
          strip.close = true;
          --inner_end;
        }
      }
    }
    if (close == std::string_view::npos) fail_at(line, "Unclosed tag");
    std::string_view inner = src_.substr(p, inner_end - p);
    try {
      if (triple) {
        output(trim(inner), strip);
      } else {
        statement(inner, strip, line);
      }
    } catch (const Failure& f) {
      fail_at(line, f.message);
    }
    return after;
  }

  void output(std::string_view expr, Strip strip) {
    auto t = tokens(expr);
    if (t.empty()) throw Failure{"Empty expression"};
    if (t.size() != 1) {
      throw Failure{"Helpers are not supported: '{{" + std::string(expr) + "}}'"};
    }
    Node n;
    n.kind = Node::Kind::Output;
    n.path = parse_path(t[0]);
    n.strip = strip;
    stack_.back().current->body.push_back(std::move(n));
  }

  void statement(std::string_view inner, Strip strip, std::size_t line) {
    std::string_view s = trim(inner);
    if (s.empty()) throw Failure{"Empty expression"};
    char c = s.front();
    if (c == '!') {
      Node n;
      n.kind = Node::Kind::Comment;
      n.strip = strip;
      stack_.back().current->body.push_back(std::move(n));
      return;
    }
    if (c == '&') return output(trim(s.substr(1)), strip);
    if (c == '>') throw Failure{"Partials are not supported"};
    if (c == '#') return open_block(trim(s.substr(1)), strip, line);
    if (c == '/') return close_block(trim(s.substr(1)), strip);
    if (c == '^') {
      if (trim(s.substr(1)).empty()) return else_tag({}, strip, line);
      throw Failure{"Inverse sections {{^name}} are not supported"};
    }
    auto t = tokens(s);
    if (!t.empty() && t[0] == "else") {
      return else_tag(std::vector<std::string_view>(t.begin() + 1, t.end()), strip, line);
    }
    output(s, strip);
  }

  static BlockKind kind_of(std::string_view name) {
    if (name == "if") return BlockKind::If;
    if (name == "unless") return BlockKind::Unless;
    if (name == "each") return BlockKind::Each;
    if (name == "with") return BlockKind::With;
    return BlockKind::Section;
  }

  Node make_block(const std::vector<std::string_view>& t) {
    if (t.empty()) throw Failure{"Expected a block name"};
    if (t[0].front() == '*' || t[0].front() == '>') {
      throw Failure{"Inline partials and partial blocks are not supported"};
    }
    Node n;
    n.kind = Node::Kind::Block;
    n.helper_name = std::string(t[0]);
    n.block = kind_of(t[0]);
    if (n.block == BlockKind::Section) {
      if (t.size() != 1) throw Failure{"Unknown helper '" + std::string(t[0]) + "'"};
      n.path = parse_path(t[0]);
    } else {
      if (t.size() != 2) {
        throw Failure{"#" + std::string(t[0]) + " requires exactly one argument"};
      }
      n.path = parse_path(t[1]);
    }
    n.program = std::make_unique<Program>();
    return n;
  }

  void push_block(Program& into, Node n, bool chained, std::size_t line) {
    if (stack_.size() > kMaxNesting) throw Failure{"Blocks are nested too deeply"};
    into.body.push_back(std::move(n));
    Node* b = &into.body.back();
    stack_.push_back(Frame{b, b->program.get(), chained, false, line});
  }

  void open_block(std::string_view expr, Strip strip, std::size_t line) {
    Node n = make_block(tokens(expr));
    n.open_strip = strip;
    push_block(*stack_.back().current, std::move(n), false, line);
  }

  void else_tag(const std::vector<std::string_view>& rest, Strip strip, std::size_t line) {
    Frame& f = stack_.back();
    if (!f.block) throw Failure{"{{else}} outside a block"};
    if (f.in_inverse) throw Failure{"Two {{else}} in one block"};
    f.in_inverse = true;
    f.block->inverse_strip = strip;
    f.block->inverse = std::make_unique<Program>();
    f.current = f.block->inverse.get();
    if (rest.empty()) return;
    // `{{else if x}}`: the inverse is one block of its own, closed with the outer one.
    f.block->inverse_chained = true;
    Node n = make_block(rest);
    n.open_strip = strip;
    push_block(*f.current, std::move(n), true, line);
  }

  void close_block(std::string_view name, Strip strip) {
    Frame& f = stack_.back();
    if (!f.block) throw Failure{"Unexpected {{/" + std::string(name) + "}}"};
    // Chained blocks close with their outermost block.
    std::size_t i = stack_.size() - 1;
    while (stack_[i].chained) --i;
    Node* outer = stack_[i].block;
    if (outer->helper_name != name) {
      throw Failure{outer->helper_name + " doesn't match " + std::string(name)};
    }
    for (std::size_t j = i; j < stack_.size(); ++j) stack_[j].block->close_strip = strip;
    stack_.resize(i);
  }

  std::string_view src_;
  std::vector<Frame> stack_;
  std::size_t counted_pos_ = 0, counted_line_ = 1;
};

}  // namespace

base::Expected<Template, ParseError> Template::parse(std::string_view source) {
  try {
    auto program = Parser(source).run();
    apply_whitespace_control(*program);
    return Template(std::shared_ptr<const Program>(std::move(program)));
  } catch (ParseError& e) {
    return base::unexpected(std::move(e));
  }
}

}  // namespace mailtally::templates
