// The HTML link rewriter (gumbo, attribute splicing, ses:tags, placeholders) on arbitrary
// HTML. Link: mailtally_tracking. Input byte 0 picks click/open; the rest is the document.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tracking/link_rewriter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailtally::tracking;
  if (size == 0) return 0;
  std::string_view html(reinterpret_cast<const char*>(data) + 1, size - 1);
  RewriteOptions o;
  o.click = data[0] & 1;
  o.open = data[0] & 2;
  o.max_links = (data[0] & 4) ? 3 : kMaxTrackedLinks;
  o.open_url = "https://t.test/o/PIXEL";
  std::size_t calls = 0;
  o.click_url = [&](const TrackedLink& l) {
    ++calls;
    if (!is_trackable_url(l.url)) __builtin_trap();
    return "https://t.test/c/" + std::to_string(calls);
  };
  auto r = rewrite_html(html, o);
  if (r.tracked.size() > o.max_links || r.tracked.size() > calls) __builtin_trap();
  if (!o.click && !r.tracked.empty()) __builtin_trap();
  if (r.changed != (r.html != html)) __builtin_trap();
  for (const auto& l : r.tracked) {
    for (const auto& [k, v] : l.tags) {
      if (k.empty() || v.empty() || k.size() > kMaxLinkTagChars) __builtin_trap();
    }
  }
  // Without click or open nothing but placeholders is removed.
  if (!o.click && !o.open && r.html.size() > html.size()) __builtin_trap();
  return 0;
}
