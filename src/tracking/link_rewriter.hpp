// Open/click instrumentation of one HTML document (spec section 7), with a real HTML5 parser
// (gumbo) to find the anchors and the source positions of their attributes. Only the changed
// attributes are spliced; every other byte of the document stays as it was.
//
// For every <a> element (any case, in document order):
//   - `ses:no-track` and `ses:tags` attributes are removed (with the blank before them);
//   - `ses:tags="k:v;k:v;"` gives the link tags: pairs split on ';', key and value on the first
//     ':', blanks trimmed; names and values of 1..256 characters of A-Z a-z 0-9 '_' '-' only —
//     other pairs are left out (the link is still tracked);
//   - with `click` set, unless `ses:no-track`: an `href` holding an absolute http(s) URL that is
//     RFC 3986-valid (Boost.URL) and at most kMaxLinkBytes long becomes `href="<click url>"`,
//     for the first kMaxTrackedLinks such links; other links are left alone.
// With `open` set the pixel <img> replaces the first `{{ses:openTracker}}` (later ones are
// removed), or else goes before </body> (before </html>, or at the end, when there is none).
// Without `open`, `{{ses:openTracker}}` placeholders are removed.
//
// Pure and thread-safe (gumbo keeps no global state).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtally::tracking {

inline constexpr std::size_t kMaxTrackedLinks = 250;
inline constexpr std::size_t kMaxLinkBytes = 2048;
inline constexpr std::size_t kMaxLinkTagChars = 256;
inline constexpr std::string_view kOpenTrackerPlaceholder = "{{ses:openTracker}}";

using LinkTags = std::vector<std::pair<std::string, std::string>>;

struct TrackedLink {
  std::string url;  // the href as the browser reads it (entities decoded, blanks trimmed)
  LinkTags tags;
};

struct RewriteOptions {
  bool click = false;
  bool open = false;
  std::size_t max_links = kMaxTrackedLinks;
  // The tracking URL of a link (called once per tracked link, in document order).
  std::function<std::string(const TrackedLink&)> click_url;
  std::string open_url;  // the pixel's src
};

struct RewriteResult {
  std::string html;
  std::vector<TrackedLink> tracked;
  bool pixel = false;    // the open pixel was added
  bool changed = false;  // html differs from the input
};

RewriteResult rewrite_html(std::string_view html, const RewriteOptions& options);

// The link tags of a `ses:tags` value (rules above).
LinkTags parse_link_tags(std::string_view value);

// Absolute http/https URL, RFC 3986-valid, at most kMaxLinkBytes.
bool is_trackable_url(std::string_view url);

// The <img> of the open pixel (attribute value escaped).
std::string pixel_html(std::string_view src);

}  // namespace mailtally::tracking
