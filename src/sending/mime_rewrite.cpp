// Built into the module libmailtally_mime.so (see mime_module.cpp for the loader side).
#include "sending/mime_rewrite.hpp"

#include <gmime/gmime.h>

#include <memory>
#include <mutex>
#include <vector>

namespace mailtally::sending {
namespace {

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

struct Unref {
  void operator()(gpointer p) const {
    if (p) g_object_unref(p);
  }
};
template <class T>
using Owned = std::unique_ptr<T, Unref>;

bool ascii_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool wide_charset(const char* charset) {
  if (!charset) return false;
  std::string_view cs(charset);
  auto starts = [&](std::string_view p) {
    return cs.size() >= p.size() && ascii_iequal(cs.substr(0, p.size()), p);
  };
  return starts("utf-16") || starts("utf-32") || starts("ucs-2") || starts("ucs-4") ||
         starts("ucs2") || starts("ucs4");
}

// Whether `text` may travel as 7bit (`eight_bit` false) or 8bit: no NUL, lines of at most
// 998 octets, and for 7bit only ASCII.
bool fits_identity(std::string_view text, bool eight_bit) {
  std::size_t line = 0;
  for (unsigned char c : text) {
    if (c == '\n') {
      line = 0;
      continue;
    }
    if (c == 0 || (!eight_bit && c >= 0x80)) return false;
    if (++line > 998) return false;
  }
  return true;
}

struct Walk {
  const HtmlRewrite* rewrite;
  std::vector<GMimePart*> html_parts;
};

void collect_html(GMimeObject* /*parent*/, GMimeObject* part, gpointer user) {
  auto* walk = static_cast<Walk*>(user);
  if (!GMIME_IS_PART(part)) return;
  GMimeContentType* type = g_mime_object_get_content_type(part);
  if (!type || !g_mime_content_type_is_type(type, "text", "html")) return;
  if (g_mime_part_is_attachment(GMIME_PART(part))) return;
  if (wide_charset(g_mime_content_type_get_parameter(type, "charset"))) return;
  walk->html_parts.push_back(GMIME_PART(part));
}

bool rewrite_part(GMimePart* part, const HtmlRewrite& rewrite) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (!content) return false;
  Owned<GMimeStream> decoded(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, decoded.get());  // removes the transfer encoding
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(decoded.get()));
  std::string_view html =
      bytes ? std::string_view(reinterpret_cast<const char*>(bytes->data), bytes->len)
            : std::string_view();
  auto changed = rewrite(html);
  if (!changed) return false;

  GMimeContentEncoding encoding = g_mime_part_get_content_encoding(part);
  Owned<GMimeStream> fresh(g_mime_stream_mem_new_with_buffer(changed->data(), changed->size()));
  Owned<GMimeDataWrapper> wrapper(
      g_mime_data_wrapper_new_with_stream(fresh.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(part, wrapper.get());
  switch (encoding) {
    case GMIME_CONTENT_ENCODING_BASE64:
    case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
    case GMIME_CONTENT_ENCODING_UUENCODE:
    case GMIME_CONTENT_ENCODING_BINARY:
      g_mime_part_set_content_encoding(part, encoding);
      break;
    case GMIME_CONTENT_ENCODING_8BIT:
      g_mime_part_set_content_encoding(
          part, fits_identity(*changed, true) ? encoding : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
      break;
    default:  // 7bit, or no header (7bit by default)
      if (!fits_identity(*changed, false)) {
        g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
      }
      break;
  }
  return true;
}

}  // namespace

std::optional<std::string> module_rewrite_html_parts(std::string_view raw,
                                                     const HtmlRewrite& rewrite) {
  init_gmime();
  Owned<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  Owned<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  Owned<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!message) return std::nullopt;
  Walk walk{&rewrite, {}};
  GMimeObject* body = g_mime_message_get_mime_part(message.get());
  if (!body) return std::nullopt;
  if (GMIME_IS_MULTIPART(body)) {
    g_mime_multipart_foreach(GMIME_MULTIPART(body), collect_html, &walk);
  } else {
    collect_html(nullptr, body, &walk);
  }
  bool any = false;
  for (GMimePart* part : walk.html_parts) any = rewrite_part(part, rewrite) || any;
  if (!any) return std::nullopt;

  GMimeFormatOptions* options = g_mime_format_options_new();
  bool crlf = raw.find("\r\n") != std::string_view::npos;
  g_mime_format_options_set_newline_format(
      options, crlf ? GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX);
  Owned<GMimeStream> out(g_mime_stream_mem_new());
  ssize_t n = g_mime_object_write_to_stream(GMIME_OBJECT(message.get()), options, out.get());
  g_mime_format_options_free(options);
  if (n < 0) return std::nullopt;
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  std::string result(reinterpret_cast<const char*>(bytes->data), bytes->len);
  // GMime writes the epilogue's last line ending as it likes (none, or a bare LF); keep the
  // message's own.
  std::string_view eol = crlf ? "\r\n" : "\n";
  if (raw.ends_with(eol) && !result.ends_with(eol)) {
    if (!result.empty() && result.back() == '\n') result.pop_back();
    result += eol;
  }
  return result;
}

}  // namespace mailtally::sending

// Resolved by the loader (mime_module.cpp) with dlsym; same compiler and headers on both sides.
extern "C" __attribute__((visibility("default"))) bool mailtally_mime_rewrite_html_parts(
    const char* data, std::size_t size, const mailtally::sending::HtmlRewrite* rewrite,
    std::string* out) {
  auto result =
      mailtally::sending::module_rewrite_html_parts(std::string_view(data, size), *rewrite);
  if (!result) return false;
  *out = std::move(*result);
  return true;
}
