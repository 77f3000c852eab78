// Built as the module libmailtally_mime.so, loaded on first use (see mime_module.cpp), so the
// server does not pay for loading GMime and GLib at start-up.
#include "sending/mime_parse.hpp"

#include <gmime/gmime.h>

#include <mutex>

namespace mailtally::sending {
namespace {

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

// GObject reference holder.
template <class T>
struct Ref {
  T* p = nullptr;
  explicit Ref(T* x) : p(x) {}
  ~Ref() {
    if (p) g_object_unref(p);
  }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
};

std::string take(char* s) {
  std::string out = s ? s : "";
  g_free(s);
  return out;
}

void collect(InternetAddressList* list, std::vector<std::string>& shown,
             std::vector<std::string>& bare) {
  if (!list) return;
  int n = internet_address_list_length(list);
  for (int i = 0; i < n; ++i) {
    InternetAddress* a = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
      bare.emplace_back(addr ? addr : "");
      shown.push_back(take(internet_address_to_string(a, nullptr, FALSE)));
    } else if (INTERNET_ADDRESS_IS_GROUP(a)) {
      collect(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)), shown, bare);
    }
  }
}

void scan_part(GMimeObject* parent, GMimeObject* part, gpointer user) {
  (void)parent;
  auto* found = static_cast<bool*>(user);
  if (*found || !GMIME_IS_PART(part)) return;
  GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(part));
  if (!content) return;
  Ref<GMimeStream> mem(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, mem.p);  // decodes the transfer encoding
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.p));
  if (!bytes) return;
  std::string_view data(reinterpret_cast<const char*>(bytes->data), bytes->len);
  *found = contains_eicar(data);
}

}  // namespace

std::optional<ParsedMessage> module_parse_message(std::string_view raw, std::string* error) {
  init_gmime();
  Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  Ref<GMimeParser> parser(g_mime_parser_new_with_stream(stream.p));
  GMimeMessage* message = g_mime_parser_construct_message(parser.p, nullptr);
  if (!message) {
    if (error) *error = "the message could not be parsed as MIME";
    return std::nullopt;
  }
  Ref<GMimeMessage> msg(message);
  ParsedMessage out;
  collect(g_mime_message_get_from(message), out.from, out.from_addresses);
  collect(g_mime_message_get_addresses(message, GMIME_ADDRESS_TYPE_TO), out.to, out.to_addresses);
  collect(g_mime_message_get_addresses(message, GMIME_ADDRESS_TYPE_CC), out.cc, out.cc_addresses);
  collect(g_mime_message_get_addresses(message, GMIME_ADDRESS_TYPE_BCC), out.bcc,
          out.bcc_addresses);
  if (const char* s = g_mime_message_get_subject(message)) out.subject = s;
  if (const char* id = g_mime_message_get_message_id(message)) out.message_id = id;
  if (const char* d = g_mime_object_get_header(GMIME_OBJECT(message), "Date")) out.date = d;
  out.has_eicar = contains_eicar(raw);
  if (!out.has_eicar) {
    g_mime_message_foreach(message, scan_part, &out.has_eicar);
  }
  return out;
}

std::vector<std::string> module_parse_address_list(std::string_view value) {
  init_gmime();
  std::string text(value);
  std::vector<std::string> shown, bare;
  InternetAddressList* list = internet_address_list_parse(nullptr, text.c_str());
  if (!list) return {std::string(value)};
  collect(list, shown, bare);
  g_object_unref(list);
  return bare;
}

}  // namespace mailtally::sending

// The entry points the loader (mime_module.cpp) resolves with dlsym. Both sides are built by
// the same compiler from the same headers, so C++ types cross the boundary safely.
extern "C" __attribute__((visibility("default"))) bool mailtally_mime_parse_message(
    const char* data, std::size_t size, mailtally::sending::ParsedMessage* out,
    std::string* error) {
  auto parsed = mailtally::sending::module_parse_message(std::string_view(data, size), error);
  if (!parsed) return false;
  *out = std::move(*parsed);
  return true;
}

extern "C" __attribute__((visibility("default"))) void mailtally_mime_parse_address_list(
    const char* data, std::size_t size, std::vector<std::string>* out) {
  *out = mailtally::sending::module_parse_address_list(std::string_view(data, size));
}
