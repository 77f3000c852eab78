#include "tracking/link_rewriter.hpp"

#include <gumbo.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <memory>
#include <optional>
#include <set>

namespace mailtally::tracking {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

bool is_tag_part(std::string_view s) {
  if (s.empty() || s.size() > kMaxLinkTagChars) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

bool iequal(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

std::string escape_attribute(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A replacement of input bytes [begin, end) by `text` (an insertion when begin == end).
struct Edit {
  std::size_t begin = 0, end = 0;
  std::string text;
};

struct Output {
  struct Deleter {
    void operator()(GumboOutput* o) const { gumbo_destroy_output(&kGumboDefaultOptions, o); }
  };
  std::unique_ptr<GumboOutput, Deleter> p;
};

class Rewriter {
 public:
  Rewriter(std::string_view html, const RewriteOptions& options) : html_(html), options_(options) {}

  RewriteResult run() {
    RewriteResult result;
    Output out{std::unique_ptr<GumboOutput, Output::Deleter>(
        gumbo_parse_with_options(&kGumboDefaultOptions, html_.data(), html_.size()))};
    if (!out.p) {
      result.html = std::string(html_);
      return result;
    }
    // Iterative walk in document order (children pushed in reverse).
    std::vector<const GumboNode*> stack{out.p->document};
    const GumboNode* body = nullptr;
    const GumboNode* root = out.p->root;
    while (!stack.empty()) {
      const GumboNode* node = stack.back();
      stack.pop_back();
      const GumboVector* children = nullptr;
      if (node->type == GUMBO_NODE_DOCUMENT) {
        children = &node->v.document.children;
      } else if (node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE) {
        const GumboElement& e = node->v.element;
        if (e.tag == GUMBO_TAG_A && e.tag_namespace == GUMBO_NAMESPACE_HTML) anchor(e, result);
        if (e.tag == GUMBO_TAG_BODY && !body) body = node;
        children = &e.children;
      }
      if (!children) continue;
      for (unsigned i = children->length; i-- > 0;) {
        stack.push_back(static_cast<const GumboNode*>(children->data[i]));
      }
    }
    bool placeholder = html_.find(kOpenTrackerPlaceholder) != std::string_view::npos;
    if (options_.open && !placeholder) {
      // At the very end, the pixel goes before trailing line breaks and blanks.
      std::size_t at = html_.size();
      while (at > 0 && is_blank(html_[at - 1])) --at;
      if (auto pos = end_tag_offset(body)) {
        at = *pos;
      } else if (auto rpos = end_tag_offset(root)) {
        at = *rpos;
      }
      edits_.push_back({at, at, pixel_html(options_.open_url)});
      result.pixel = true;
    }
    result.html = apply();
    if (placeholder) result.pixel = replace_placeholders(result.html) && options_.open;
    result.changed = result.html != html_;
    return result;
  }

 private:
  // Byte offset of `p` in the input, when it points into it.
  std::optional<std::size_t> offset(const char* p) const {
    if (!p || p < html_.data() || p > html_.data() + html_.size()) return std::nullopt;
    return static_cast<std::size_t>(p - html_.data());
  }

  std::optional<std::size_t> end_tag_offset(const GumboNode* node) const {
    if (!node || node->type != GUMBO_NODE_ELEMENT) return std::nullopt;
    const GumboStringPiece& t = node->v.element.original_end_tag;
    if (t.length == 0) return std::nullopt;
    return offset(t.data);
  }

  // The source range of an attribute: name through value (quotes included).
  std::optional<std::pair<std::size_t, std::size_t>> range(const GumboAttribute& a) const {
    auto begin = offset(a.original_name.data);
    if (!begin || a.original_name.length == 0) return std::nullopt;
    std::size_t end = *begin + a.original_name.length;
    // A valueless attribute has original_value == original_name.
    if (a.original_value.length > 0 && a.original_value.data != a.original_name.data) {
      auto v = offset(a.original_value.data);
      if (!v || *v < end) return std::nullopt;
      end = *v + a.original_value.length;
    }
    if (end > html_.size()) return std::nullopt;
    return std::make_pair(*begin, end);
  }

  void remove(const GumboAttribute& a) {
    auto r = range(a);
    if (!r) return;
    std::size_t begin = r->first;
    while (begin > 0 && is_blank(html_[begin - 1])) --begin;
    add_edit({begin, r->second, {}});
  }

  bool add_edit(Edit e) {
    // The parser may clone an element (misnested formatting elements): its attributes point at
    // the same source, which is edited once.
    if (!seen_.insert(e.begin).second) return false;
    edits_.push_back(std::move(e));
    return true;
  }

  void anchor(const GumboElement& e, RewriteResult& result) {
    const GumboAttribute* href = nullptr;
    const GumboAttribute* tags = nullptr;
    bool no_track = false;
    for (unsigned i = 0; i < e.attributes.length; ++i) {
      const auto* a = static_cast<const GumboAttribute*>(e.attributes.data[i]);
      std::string_view name(a->name);
      if (name == "href") {
        href = a;
      } else if (name == "ses:no-track") {
        no_track = true;
        remove(*a);
      } else if (name == "ses:tags") {
        tags = a;
        remove(*a);
      }
    }
    if (!options_.click || no_track || !href || result.tracked.size() >= options_.max_links) return;
    std::string_view url = trim(href->value);
    if (!is_trackable_url(url)) return;
    auto r = range(*href);
    if (!r || href->original_value.length == 0 ||
        href->original_value.data == href->original_name.data) {
      return;
    }
    TrackedLink link{std::string(url), tags ? parse_link_tags(tags->value) : LinkTags{}};
    std::size_t value_begin = r->second - href->original_value.length;
    std::string target = options_.click_url ? options_.click_url(link) : std::string(url);
    if (add_edit({value_begin, r->second, "\"" + escape_attribute(target) + "\""})) {
      result.tracked.push_back(std::move(link));
    }
  }

  std::string apply() {
    std::stable_sort(edits_.begin(), edits_.end(),
                     [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
    std::string out;
    out.reserve(html_.size() + 64 * edits_.size());
    std::size_t pos = 0;
    for (const auto& e : edits_) {
      if (e.begin < pos) continue;  // overlaps an earlier edit: keep the source
      out.append(html_.substr(pos, e.begin - pos));
      out += e.text;
      pos = e.end;
    }
    out.append(html_.substr(pos));
    return out;
  }

  // Replaces the first placeholder with the pixel (with `open`) and removes the others; true
  // when the pixel went in.
  bool replace_placeholders(std::string& html) const {
    bool first = true;
    std::string out;
    std::size_t pos = 0;
    for (;;) {
      std::size_t at = html.find(kOpenTrackerPlaceholder, pos);
      if (at == std::string::npos) break;
      out.append(html, pos, at - pos);
      if (first && options_.open) out += pixel_html(options_.open_url);
      first = false;
      pos = at + kOpenTrackerPlaceholder.size();
    }
    out.append(html, pos, std::string::npos);
    html = std::move(out);
    return !first;
  }

  std::string_view html_;
  const RewriteOptions& options_;
  std::vector<Edit> edits_;
  std::set<std::size_t> seen_;
};

}  // namespace

LinkTags parse_link_tags(std::string_view value) {
  LinkTags out;
  while (!value.empty()) {
    std::size_t semi = value.find(';');
    std::string_view pair = value.substr(0, semi);
    value = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
    std::size_t colon = pair.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view k = trim(pair.substr(0, colon));
    std::string_view v = trim(pair.substr(colon + 1));
    if (is_tag_part(k) && is_tag_part(v)) out.emplace_back(k, v);
  }
  return out;
}

bool is_trackable_url(std::string_view url) {
  if (url.empty() || url.size() > kMaxLinkBytes) return false;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return false;
  std::string_view scheme = parsed->scheme();
  if (!iequal(scheme, "http") && !iequal(scheme, "https")) return false;
  return parsed->has_authority() && !parsed->encoded_host().empty();
}

std::string pixel_html(std::string_view src) {
  return "<img alt=\"\" src=\"" + escape_attribute(src) +
         "\" width=\"1\" height=\"1\" border=\"0\" style=\"display:block;width:1px;height:1px;"
         "border:0\" />";
}

RewriteResult rewrite_html(std::string_view html, const RewriteOptions& options) {
  return Rewriter(html, options).run();
}

}  // namespace mailtally::tracking
