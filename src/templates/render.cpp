// Template::render: evaluates the compiled program against JSON data with Handlebars.js
// semantics (helpers if/unless/each/with and blockHelperMissing for sections).
#include <boost/json/value.hpp>
#include <charconv>
#include <cstdlib>
#include <optional>

#include "templates/ast.hpp"
#include "templates/template.hpp"

namespace mailtally::templates {
namespace json = boost::json;
namespace {

// JavaScript's Number#toString for a finite double.
std::string js_number(double d) {
  if (d == 0) return "0";  // also -0
  if (d != d) return "NaN";
  if (d < 0) return "-" + js_number(-d);
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // d[.ddd]e[+-]xx, shortest round trip
  auto e = sci.find('e');
  std::string digits;
  for (std::size_t i = 0; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int k = static_cast<int>(digits.size());
  int n = std::atoi(sci.c_str() + e + 1) + 1;  // d = 0.digits * 10^n
  if (k <= n && n <= 21) return digits + std::string(static_cast<std::size_t>(n - k), '0');
  if (0 < n && n <= 21) return digits.substr(0, n) + "." + digits.substr(n);
  if (-6 < n && n <= 0) return "0." + std::string(static_cast<std::size_t>(-n), '0') + digits;
  std::string exp = (n - 1 >= 0 ? "+" : "-") + std::to_string(std::abs(n - 1));
  if (k == 1) return digits + "e" + exp;
  return digits.substr(0, 1) + "." + digits.substr(1) + "e" + exp;
}

void append_display(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      out.append(v.get_string().data(), v.get_string().size());
      return;
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      return;
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      return;
    case json::kind::double_:
      out += js_number(v.get_double());
      return;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case json::kind::null:
      return;
    case json::kind::array: {
      bool first = true;
      for (const auto& x : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_display(out, x);
      }
      return;
    }
    case json::kind::object:
      out += "[object Object]";
      return;
  }
}

// JavaScript truthiness of a JSON value (plus Handlebars: an empty array is falsy).
bool truthy(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return false;
    case json::kind::bool_:
      return v.get_bool();
    case json::kind::string:
      return !v.get_string().empty();
    case json::kind::int64:
      return v.get_int64() != 0;
    case json::kind::uint64:
      return v.get_uint64() != 0;
    case json::kind::double_:
      return v.get_double() != 0 && v.get_double() == v.get_double();
    case json::kind::array:
      return !v.get_array().empty();
    case json::kind::object:
      return true;
  }
  return true;
}

// Handlebars' Utils.isEmpty (used by #with): like falsy, but 0 is not empty.
bool empty_for_with(const json::value& v) {
  if (v.is_int64() || v.is_uint64() || v.is_double()) return false;
  return !truthy(v);
}

// A resolved expression: undefined, a reference into the data, or a value made here.
struct Val {
  bool defined = false;
  const json::value* ref = nullptr;
  json::value owned;
  const json::value& get() const { return ref ? *ref : owned; }
  static Val of(const json::value* v) {
    Val r;
    r.defined = v != nullptr;
    r.ref = v;
    return r;
  }
  static Val make(json::value v) {
    Val r;
    r.defined = true;
    r.owned = std::move(v);
    return r;
  }
};

// The @-variables of the current iteration.
struct DataFrame {
  const json::value* root = nullptr;
  std::optional<std::int64_t> index;
  std::optional<std::string> key;
  std::optional<bool> first, last;
};

struct LimitReached {};

class Renderer {
 public:
  explicit Renderer(const json::value& root) { data_.root = &root; }

  std::string out;
  std::optional<std::string> missing;  // set on the first missing attribute

  void program(const Program& p, std::vector<const json::value*>& depths, const DataFrame& data) {
    if (++steps_ > kMaxRenderSteps) throw LimitReached{};
    for (const Node& n : p.body) {
      if (++steps_ > kMaxRenderSteps) throw LimitReached{};
      switch (n.kind) {
        case Node::Kind::Content:
          out += n.value;
          break;
        case Node::Kind::Comment:
          break;
        case Node::Kind::Output: {
          Val v = lookup(n.path, depths, data);
          if (!v.defined) {
            if (n.path.data) break;  // unknown @-variables print nothing
            missing = n.path.original;
            throw LimitReached{};
          }
          append_display(out, v.get());
          break;
        }
        case Node::Kind::Block:
          block(n, depths, data);
          break;
      }
      if (out.size() > kMaxRenderedBytes) {
        throw LimitReached{};
      }
    }
  }

  const DataFrame& root_data() const { return data_; }

 private:
  Val lookup(const Path& p, const std::vector<const json::value*>& depths, const DataFrame& data) {
    const json::value* base = nullptr;
    Val synthetic;
    std::size_t first_part = 0;
    if (p.data) {
      if (p.parts.empty()) return Val{};
      const std::string& name = p.parts[0];
      first_part = 1;
      if (name == "root") {
        base = data.root;
      } else if (name == "index" && data.index) {
        synthetic = Val::make(json::value(*data.index));
      } else if (name == "key" && data.key) {
        synthetic = Val::make(json::value(*data.key));
      } else if (name == "first" && data.first) {
        synthetic = Val::make(json::value(*data.first));
      } else if (name == "last" && data.last) {
        synthetic = Val::make(json::value(*data.last));
      } else {
        return Val{};
      }
      if (!base) {
        if (p.parts.size() == 1) return synthetic;
        base = &synthetic.owned;
      }
    } else {
      if (p.depth >= depths.size()) return Val{};
      base = depths[depths.size() - 1 - p.depth];
    }
    const json::value* cur = base;
    for (std::size_t i = first_part; i < p.parts.size(); ++i) {
      const std::string& part = p.parts[i];
      if (cur->is_object()) {
        cur = cur->get_object().if_contains(part);
      } else if (cur->is_array()) {
        const auto& a = cur->get_array();
        if (part == "length") {
          if (i + 1 == p.parts.size()) {
            return Val::make(json::value(static_cast<std::int64_t>(a.size())));
          }
          return Val{};
        }
        char* end = nullptr;
        unsigned long long ix = std::strtoull(part.c_str(), &end, 10);
        bool numeric = !part.empty() && *end == '\0' && part[0] >= '0' && part[0] <= '9' &&
                       (part == "0" || part[0] != '0');
        cur = numeric && ix < a.size() ? &a[ix] : nullptr;
      } else {
        cur = nullptr;
      }
      if (!cur) return Val{};
    }
    if (cur == &synthetic.owned) return synthetic;
    return Val::of(cur);
  }

  // Renders `p` with `ctx` as the new context (pushed when it is not the current one).
  void with_context(const Program& p, const json::value& ctx,
                    std::vector<const json::value*>& depths, const DataFrame& data) {
    bool push = depths.empty() || depths.back() != &ctx;
    if (push) depths.push_back(&ctx);
    program(p, depths, data);
    if (push) depths.pop_back();
  }

  void inverse(const Node& n, std::vector<const json::value*>& depths, const DataFrame& data) {
    if (n.inverse) program(*n.inverse, depths, data);
  }

  void each(const Node& n, const json::value& v, std::vector<const json::value*>& depths,
            const DataFrame& data) {
    std::size_t count = 0;
    if (v.is_array()) {
      const auto& a = v.get_array();
      for (std::size_t i = 0; i < a.size(); ++i) {
        DataFrame d = data;
        d.index = static_cast<std::int64_t>(i);
        d.key = std::to_string(i);
        d.first = i == 0;
        d.last = i + 1 == a.size();
        with_context(*n.program, a[i], depths, d);
        ++count;
      }
    } else if (v.is_object()) {
      const auto& o = v.get_object();
      std::size_t i = 0;
      for (const auto& [key, value] : o) {
        DataFrame d = data;
        d.index = static_cast<std::int64_t>(i);
        d.key = std::string(key);
        d.first = i == 0;
        d.last = i + 1 == o.size();
        with_context(*n.program, value, depths, d);
        ++i;
        ++count;
      }
    }
    if (count == 0) inverse(n, depths, data);
  }

  void block(const Node& n, std::vector<const json::value*>& depths, const DataFrame& data) {
    Val v = lookup(n.path, depths, data);
    static const json::value kNull;
    const json::value& value = v.defined ? v.get() : kNull;
    switch (n.block) {
      case BlockKind::If:
      case BlockKind::Unless: {
        bool yes = v.defined && truthy(value);
        if (n.block == BlockKind::Unless) yes = !yes;
        if (yes) {
          program(*n.program, depths, data);
        } else {
          inverse(n, depths, data);
        }
        return;
      }
      case BlockKind::With:
        if (v.defined && !empty_for_with(value)) {
          with_context(*n.program, value, depths, data);
        } else {
          inverse(n, depths, data);
        }
        return;
      case BlockKind::Each:
        each(n, value, depths, data);
        return;
      case BlockKind::Section:
        // Handlebars' blockHelperMissing.
        if (!v.defined || value.is_null() || (value.is_bool() && !value.get_bool())) {
          inverse(n, depths, data);
        } else if (value.is_bool()) {
          program(*n.program, depths, data);
        } else if (value.is_array()) {
          each(n, value, depths, data);
        } else {
          with_context(*n.program, value, depths, data);
        }
        return;
    }
  }

  DataFrame data_;
  std::size_t steps_ = 0;
};

}  // namespace

std::string to_display_string(const json::value& v) {
  std::string out;
  append_display(out, v);
  return out;
}

base::Expected<std::string, RenderError> Template::render(const json::value& data) const {
  Renderer r(data);
  std::vector<const json::value*> depths{&data};
  try {
    r.program(*program_, depths, r.root_data());
  } catch (const LimitReached&) {
    if (r.missing) return base::unexpected(RenderError{*r.missing, false});
    return base::unexpected(RenderError{{}, true});
  }
  return std::move(r.out);
}

}  // namespace mailtally::templates
