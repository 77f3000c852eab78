// The web console's static files (console/ and the npm libraries it uses), embedded into the
// binary at build time by tools/embed_console_assets.py, so the console works offline and the
// runtime stays one binary. Immutable; safe from any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace mailtally::console {

struct Asset {
  std::string_view url;  // e.g. "/console/", "/console/app/main.js"
  std::string_view content_type;
  const unsigned char* data;
  std::size_t size;
  std::string_view etag;  // quoted, as sent in ETag
};

// The asset served at `url` (exact match); nullptr when there is none.
const Asset* find_asset(std::string_view url);

}  // namespace mailtally::console
